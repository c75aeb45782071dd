"""Long-term memory: facts and preferences in the vector store, one collection per user.

``remember`` deduplicates (the same text normalised is the same point; a near-identical one by
dense similarity returns the memory already kept); ``recall`` is the hybrid search the planner's
automatic recall uses.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from autan.config import Settings
from autan.errors import NotFoundError, UserInputError
from autan.memory.embeddings import Embedder, embedder_for, model_cache
from autan.memory.vectorstore import Point, VectorStore, open_store

Kind = Literal["fact", "preference"]
MAX_CHARS = 2000


@dataclass(frozen=True)
class Memory:
    """One remembered item."""

    id: str
    text: str
    kind: str
    created: str
    score: float = 0.0
    duplicate: bool = False

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape tools and the CLI print."""
        return {"id": self.id, "text": self.text, "kind": self.kind, "created": self.created}


def _normal(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().rstrip(".!").casefold()


def collection_for(user: str) -> str:
    """The user's own collection name."""
    safe = re.sub(r"[^A-Za-z0-9_-]+", "-", user).strip("-") or "default"
    return f"memories-{safe}"


class LongTermMemory:
    """A user's memories: remember, recall, list, forget."""

    def __init__(
        self, store: VectorStore, embedder: Embedder, user: str = "default", threshold: float = 0.92
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.user = user
        self.threshold = threshold
        self.collection = collection_for(user)
        self.store.ensure_collection(self.collection, embedder.dim, embedder.name)

    @classmethod
    def from_settings(cls, settings: Settings, user: str | None = None) -> LongTermMemory:
        """The configured store and embedder, for ``user`` (default: ``memory.user``)."""
        store = open_store(settings)
        name = collection_for(user or settings.memory.user)
        recorded = store.embedder_of(name)
        spec = settings.memory.embedder or settings.retrieval.embedder
        return cls(
            store,
            embedder_for(spec, recorded, model_cache(settings)),
            user or settings.memory.user,
            settings.memory.dedup_threshold,
        )

    def _id(self, text: str) -> str:
        digest = hashlib.sha256(f"{self.user}\0{_normal(text)}".encode()).hexdigest()
        return f"mem-{digest[:16]}"

    def remember(self, text: str, kind: Kind = "fact") -> Memory:
        """Keep ``text``; a duplicate returns the memory already kept (``duplicate=True``)."""
        text = text.strip()
        if not text:
            raise UserInputError(
                "there is nothing to remember: the text is empty", hint="give the fact to keep"
            )
        if len(text) > MAX_CHARS:
            raise UserInputError(f"a memory holds at most {MAX_CHARS} characters")
        vector = self.embedder.embed([text])[0]
        same = self.store.search(self.collection, vector=vector, text=None, k=1, mode="dense")
        point_id = self._id(text)
        if same and (same[0].id == point_id or same[0].score >= self.threshold):
            hit = same[0]
            kept = str(hit.payload.get("created", ""))
            return Memory(hit.id, hit.text, str(hit.payload.get("kind")), kept, hit.score, True)
        created = datetime.now(UTC).isoformat(timespec="seconds")
        payload = {"kind": kind, "created": created, "user": self.user, "memory": text}
        self.store.upsert(self.collection, [Point(point_id, vector, text, payload)])
        return Memory(point_id, text, kind, created)

    def recall(self, query: str, k: int = 3) -> list[Memory]:
        """The ``k`` memories most relevant to ``query``."""
        if not query.strip() or self.store.count(self.collection) == 0:
            return []
        vector = self.embedder.embed_query(query)
        hits = self.store.search(self.collection, vector=vector, text=query, k=k)
        return [
            Memory(h.id, h.text, str(h.payload.get("kind")), str(h.payload.get("created")), h.score)
            for h in hits
        ]

    def entries(self) -> list[Memory]:
        """Every memory, oldest first."""
        items = []
        for point_id, payload in self.store.scan(self.collection):
            text = str(payload.get("memory", ""))
            items.append(
                Memory(point_id, text, str(payload.get("kind")), str(payload.get("created")))
            )
        return sorted(items, key=lambda m: m.created)

    def forget(self, memory_id: str) -> None:
        """Delete one memory by id."""
        if not self.store.delete(self.collection, ids=[memory_id]):
            raise NotFoundError(f"no memory with id {memory_id!r}", hint="see 'autan memory list'")

    def forget_all(self) -> int:
        """Delete every memory of this user; returns how many there were."""
        n = int(self.store.count(self.collection))
        self.store.drop(self.collection)
        self.store.ensure_collection(self.collection, self.embedder.dim, self.embedder.name)
        return n

    def recaller(self, k: int = 3) -> Callable[[str], list[str]]:
        """The ``Agent(recall=...)`` hook: the texts of the ``k`` most relevant memories."""

        def recall(question: str) -> list[str]:
            return [m.text for m in self.recall(question, k)]

        return recall

    def close(self) -> None:
        """Release the store."""
        self.store.close()
