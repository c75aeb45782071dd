"""The gate every request passes: size limit, API key, rate limit; errors as one-line JSON.

A pure ASGI middleware (no per-request task or body copy), so streaming responses stream.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from autan.errors import (
    AutanError,
    BackendError,
    BackendTimeout,
    ConfigError,
    NotFoundError,
    SecurityViolation,
    UserInputError,
)
from autan.server.records import LOCAL
from autan.server.state import ServerState

log = logging.getLogger("autan.server")
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]
M = TypeVar("M", bound=BaseModel)
PUBLIC = ("/healthz", "/static/")
UPLOADS = ("/v1/ingest",)


class TooLarge(UserInputError):
    """The request body is over the size limit."""

    status = 413


def error_body(kind: str, message: str, status: int) -> dict[str, Any]:
    """The one error shape every endpoint uses (OpenAI clients read ``error.message``)."""
    return {"error": {"type": kind, "message": message, "code": status}}


def status_of(exc: AutanError) -> int:
    """The HTTP status of an autan error."""
    for kind, status in (
        (TooLarge, 413),
        (NotFoundError, 404),
        (UserInputError, 400),
        (SecurityViolation, 403),
        (BackendTimeout, 504),
        (BackendError, 502),
        (ConfigError, 500),
    ):
        if isinstance(exc, kind):
            return status
    return 500


async def autan_error(request: Request, exc: Exception) -> Response:
    """An AutanError as JSON: its one-line message, never a traceback."""
    assert isinstance(exc, AutanError)
    status = status_of(exc)
    return JSONResponse(error_body(type(exc).__name__, exc.one_line(), status), status)


async def http_error(request: Request, exc: Exception) -> Response:
    """Starlette's 404/405 as JSON."""
    assert isinstance(exc, HTTPException)
    return JSONResponse(error_body("HTTPError", str(exc.detail), exc.status_code), exc.status_code)


async def internal_error(request: Request, exc: Exception) -> Response:
    """Any bug: logged with its traceback here, one line to the client."""
    log.error("internal error on %s", request.url.path, exc_info=exc)
    return JSONResponse(error_body("InternalError", "internal error; see the server log", 500), 500)


async def body_of(request: Request, model: type[M]) -> M:
    """The request's JSON body validated as ``model``; ``UserInputError`` names the bad field."""
    raw = await request.body()
    try:
        return model.model_validate_json(raw or b"{}")
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "body"
        raise UserInputError(f"bad request body: {where}: {err['msg']}") from None


def owner_of(request: Request) -> str:
    """The owner (API key id, or ``local``) the gate admitted this request as."""
    return str(request.scope["state"]["owner"])


class Gate:
    """Admit a request: body within its limit, a valid key where one is needed, within rate."""

    def __init__(self, app: App, state: ServerState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Admit or refuse one request before the app sees it."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = str(scope["path"])
        cfg = self.state.settings.server
        limit = cfg.max_upload_bytes if path.startswith(UPLOADS) else cfg.max_body_bytes
        length = _header(scope, b"content-length")
        if length is not None and (not length.isdigit() or int(length) > limit):
            await _reject(send, 413, "TooLarge", f"request body over {limit} bytes")
            return
        owner = await self._owner(scope, path)
        if owner is None:
            await _reject(
                send,
                401,
                "Unauthorized",
                "a valid API key is required: "
                "send 'Authorization: Bearer <key>' (create one: autan keys create)",
            )
            return
        if self.state.limiter is not None and (wait := self.state.limiter.allow(owner)):
            await _reject(
                send,
                429,
                "RateLimited",
                f"rate limit reached; retry in {wait:.1f} s",
                {"retry-after": str(max(1, round(wait)))},
            )
            return
        scope.setdefault("state", {})["owner"] = owner
        await self.app(scope, _capped(receive, limit), send)

    async def _owner(self, scope: Scope, path: str) -> str | None:
        """The key's id; ``local`` where no key is needed (any non-autan bearer is ignored)."""
        auth = _header(scope, b"authorization") or ""
        scheme, _, token = auth.partition(" ")
        token = token.strip() if scheme.lower() == "bearer" else ""
        if token.startswith("autan-") or (token and self.state.require_keys):
            return await asyncio.to_thread(self.state.records.verify, token)
        if not self.state.require_keys or path == "/" or path.startswith(PUBLIC):
            return LOCAL
        return None


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers") or ():
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


def _capped(receive: Receive, limit: int) -> Receive:
    """``receive`` that refuses a (chunked) body growing past ``limit``."""
    seen = 0

    async def capped() -> Message:
        nonlocal seen
        message = await receive()
        if message.get("type") == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise TooLarge(f"request body over {limit} bytes")
        return message

    return capped


async def _reject(
    send: Send, status: int, kind: str, message: str, headers: dict[str, str] | None = None
) -> None:
    body = json.dumps(error_body(kind, message, status)).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(k.encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})
