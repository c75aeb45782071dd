"""``POST /v1/ingest``, ``POST /v1/search`` and ``GET /v1/collections`` on the shared index.

Collections belong to the key that uses them: a key's ``docs`` is stored as ``<key id>.docs``,
so no key can name, search or overwrite another key's documents. Files arrive as uploads
(text, or base64 for PDFs); server-side ``paths`` are read only for the machine's own user
(a loopback server without keys), never for a key holder.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import threading
from pathlib import Path, PurePosixPath
from typing import Any, Literal

from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from autan.errors import SecurityViolation, UserInputError
from autan.server.gate import body_of, owner_of
from autan.server.records import LOCAL
from autan.server.state import ServerState, collection_for

_INGEST_LOCK = threading.Lock()  # one ingest at a time; searches go on beside it


class Upload(BaseModel):
    """One uploaded file: a relative name and its text (or base64 bytes)."""

    path: str = Field(min_length=1, max_length=512)
    content: str | None = None
    content_b64: str | None = None


class IngestRequest(BaseModel):
    """Files to index into a collection."""

    collection: str | None = None
    files: list[Upload] = Field(default_factory=list)
    paths: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)


class SearchRequest(BaseModel):
    """A hybrid search over one collection."""

    query: str = Field(min_length=1, max_length=10_000)
    collection: str | None = None
    k: int = Field(5, ge=1, le=100)
    mode: Literal["hybrid", "dense", "bm25"] = "hybrid"
    filters: dict[str, Any] = Field(default_factory=dict)


def _state(request: Request) -> ServerState:
    state: ServerState = request.app.state.autan
    return state


def safe_name(name: str) -> PurePosixPath:
    """An upload's relative path; absolute paths and ``..`` are refused."""
    rel = PurePosixPath(name.replace("\\", "/"))
    if rel.is_absolute() or ".." in rel.parts or not rel.parts:
        raise SecurityViolation(f"upload path {name!r} escapes its folder", rule="upload_path")
    return rel


def _write_uploads(root: Path, files: list[Upload]) -> list[Path]:
    written = []
    for f in files:
        target = root / safe_name(f.path)
        if f.content_b64 is not None:
            try:
                data = base64.b64decode(f.content_b64, validate=True)
            except binascii.Error:
                raise UserInputError(f"{f.path}: content_b64 is not base64") from None
        else:
            data = (f.content or "").encode("utf-8")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        written.append(target)
    return written


def _ingest(state: ServerState, owner: str, body: IngestRequest) -> dict[str, Any]:
    from autan.memory.ingest.files import DEFAULT_EXCLUDES
    from autan.memory.ingest.pipeline import Ingestor

    assert state.index is not None
    cfg = state.settings.retrieval
    name = body.collection or cfg.collection
    physical = collection_for(owner, name)
    if body.paths and owner != LOCAL:
        raise SecurityViolation(
            "server-side paths are only read for the server's own user",
            rule="ingest_paths",
            hint="upload the files instead",
        )
    if not body.paths and not body.files:
        raise UserInputError("nothing to ingest", hint="send files or paths")
    uploads = Path(state.settings.data_dir) / "uploads" / owner / name
    targets = [Path(p).expanduser() for p in body.paths] + _write_uploads(uploads, body.files)
    with _INGEST_LOCK:
        ingestor = Ingestor(
            state.index.store,
            state.index.embedder,
            collection=physical,
            chunk_tokens=cfg.chunk_tokens,
            chunk_overlap=cfg.chunk_overlap,
            batch_size=cfg.embed_batch * 4,
            tags=tuple(body.tags),
            excludes=DEFAULT_EXCLUDES,
        )
        report = ingestor.run(targets).to_dict()
    return {"ok": True, **report, "collection": name, "error": None}


def _search(state: ServerState, owner: str, body: SearchRequest) -> dict[str, Any]:
    from autan.memory.evaluation import MODES
    from autan.memory.retriever import citation, make_filter

    assert state.index is not None
    name = body.collection or state.settings.retrieval.collection
    retriever = state.index.retriever(collection_for(owner, name))
    hits = retriever.search(body.query, body.k, make_filter(body.filters), MODES[body.mode])
    cites = [citation(h, i) for i, h in enumerate(hits, 1)]
    return {"ok": True, "query": body.query, "collection": name, "citations": cites, "error": None}


def _collections(state: ServerState, owner: str) -> list[dict[str, Any]]:
    assert state.index is not None
    store = state.index.store
    prefix = "" if owner == LOCAL else f"{owner}."
    out = []
    for physical in store.collections():
        mine = physical.startswith(prefix) if prefix else "." not in physical
        if mine:
            info = store.info(physical)
            out.append(
                {
                    "name": physical.removeprefix(prefix),
                    "count": info.count,
                    "dim": info.dim,
                    "model": info.model,
                }
            )
    return out


async def ingest(request: Request) -> Response:
    """Index uploaded files (or, for the local user, server-side paths) incrementally."""
    body = await body_of(request, IngestRequest)
    result = await asyncio.to_thread(_ingest, _state(request), owner_of(request), body)
    return JSONResponse(result)


async def search(request: Request) -> Response:
    """Hybrid search with numbered citations."""
    body = await body_of(request, SearchRequest)
    result = await asyncio.to_thread(_search, _state(request), owner_of(request), body)
    return JSONResponse(result)


async def collections(request: Request) -> Response:
    """The caller's collections."""
    found = await asyncio.to_thread(_collections, _state(request), owner_of(request))
    return JSONResponse({"collections": found})


routes = [
    Route("/v1/ingest", ingest, methods=["POST"]),
    Route("/v1/search", search, methods=["POST"]),
    Route("/v1/collections", collections, methods=["GET"]),
]
