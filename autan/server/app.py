"""``create_app``: the Starlette app of ``autan serve``, and ``serve`` which runs it on uvicorn.

The lifespan opens the async checkpointer, loads the chat model, the guard policy, the store
and the embedder once; every request shares them. Requests pass the ``Gate`` (size limit, API
key, rate limit); errors leave as one-line JSON, never a traceback. CORS is off unless
``server.cors_origins`` lists origins.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from autan import __version__
from autan.errors import AutanError, ConfigError
from autan.server.gate import Gate, autan_error, http_error, internal_error
from autan.server.metrics import MetricsMiddleware, metrics_endpoint
from autan.server.records import Records
from autan.server.runs import mark_stopped
from autan.server.state import RateLimiter, ServerState, SharedIndex, is_loopback

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from autan.config import Settings

log = logging.getLogger("autan.server")
STATIC = resources.files("autan.server") / "static"


async def healthz(request: Request) -> Response:
    """Liveness: the server is up and what it runs."""
    state: ServerState = request.app.state.autan
    return JSONResponse(
        {
            "ok": True,
            "version": __version__,
            "model": state.settings.model.spec,
            "ready": state.model is not None,
        }
    )


async def index(request: Request) -> Response:
    """The web page."""
    return FileResponse(str(STATIC / "index.html"), media_type="text/html")


def _routes() -> list[BaseRoute]:
    from autan.server import automations_api, docs_api, openai_api, threads_api

    routes: list[BaseRoute] = [
        Route("/", index, methods=["GET"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/metrics", metrics_endpoint, methods=["GET"]),
        Mount("/static", StaticFiles(directory=str(STATIC)), name="static"),
    ]
    routes += openai_api.routes + threads_api.routes + docs_api.routes + automations_api.routes
    try:
        from autan.server import agui_api
    except ImportError as exc:  # the ag-ui-protocol package is optional
        log.info("AG-UI endpoint off: %s", exc)
    else:
        routes += agui_api.routes
    return routes


def _warm(state: ServerState) -> None:
    """Load the embedder and build the local agent now, not on the first request."""
    assert state.index is not None
    try:
        state.index.embedder  # noqa: B018 - loading it is the point
    except AutanError as exc:
        log.warning("retrieval unavailable: %s", exc.one_line())
    if state.guards is not None:  # rails load their models on first use: use them once now
        for stage, rails in state.guards.rails.items():
            for rail in rails:
                rail.check("warm-up", stage, {"run_id": "warm-up"})
    state.agent_for("local")


def create_app(
    settings: Settings,
    *,
    host: str = "127.0.0.1",
    model: BaseChatModel | None = None,
    url: str | None = None,
) -> Starlette:
    """The app; ``model`` replaces the configured one (tests pass a scripted model).

    With ``url``, the running server announces itself in the data dir, so the CLI finds it.
    """
    require = settings.server.require_keys or not is_loopback(host)
    records = Records(settings.data_dir)
    if require and not records.has_keys():
        records.close()
        raise ConfigError(
            f"serving on {host} needs API keys, and there are none",
            hint="create one with 'autan keys create NAME', or bind 127.0.0.1",
        )
    cfg = settings.server
    state = ServerState(
        settings, records, require, limiter=RateLimiter(cfg.rate_per_min, cfg.burst)
    )
    handlers: dict[Any, Any] = {
        AutanError: autan_error,
        HTTPException: http_error,
        Exception: internal_error,
    }
    routes = _routes()
    app = Starlette(
        routes=routes,
        middleware=_middleware(state, routes),
        exception_handlers=handlers,
        lifespan=_lifespan(state, model, url),
    )
    app.state.autan = state
    return app


def _lifespan(state: ServerState, model: BaseChatModel | None, url: str | None) -> Any:
    """Load everything once at start-up; let runs finish and release it all at shutdown."""
    settings = state.settings

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        from autan.api import default_guards
        from autan.memory.checkpoints import open_async_checkpointer
        from autan.server.client import announce

        async with open_async_checkpointer(settings) as saver:
            state.saver = saver
            state.guards = await asyncio.to_thread(default_guards, settings)
            state.model = model or await asyncio.to_thread(_load_model, settings)
            state.index = SharedIndex(settings)
            await asyncio.to_thread(_warm, state)
            await mark_stopped(state)
            _settle_heap()
            note = announce(settings.data_dir, url) if url else None
            try:
                yield
            finally:
                if note is not None:
                    note.unlink(missing_ok=True)
                await _stop(state)

    return lifespan


def _settle_heap() -> None:
    """Move what start-up loaded out of the collector's sight (``gc.freeze``).

    Models, tokenizers and thousands of modules stay alive for the whole process; without
    this, every full collection walks them all, stalling every open stream for a quarter of
    a second (measured: 520,000 objects, 232 ms) at random moments under load.
    """
    gc.collect()
    gc.freeze()


def _middleware(state: ServerState, routes: list[BaseRoute]) -> list[Middleware]:
    """Metrics, then the gate on every request; CORS only for the origins the settings list."""
    middleware = [
        Middleware(MetricsMiddleware, metrics=state.metrics, routes=routes),
        Middleware(Gate, state=state),
    ]
    origins = state.settings.server.cors_origins
    if origins:
        from starlette.middleware.cors import CORSMiddleware

        cors = Middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST"],
            allow_headers=["authorization", "content-type"],
        )
        middleware.insert(0, cors)
    return middleware


def _load_model(settings: Settings) -> BaseChatModel:
    from autan.agents.models.spec import load_model

    return load_model(settings.model.spec, settings)


async def _stop(state: ServerState) -> None:
    """Let running runs finish their current step briefly, then release everything."""
    tasks = list(state.tasks.values())
    if tasks:
        await asyncio.wait(tasks, timeout=5)
    for task in tasks:
        task.cancel()
    for agent in list(state.agents.values()):
        await asyncio.to_thread(agent.close)  # sandbox sessions and memory stores
    if state.index is not None:
        await asyncio.to_thread(state.index.close)
    state.records.close()


def serve(settings: Settings, host: str, port: int) -> None:
    """Run the app on uvicorn until interrupted."""
    try:
        import uvicorn
    except ModuleNotFoundError:
        from autan.errors import missing_extra

        raise missing_extra("serve", "uvicorn") from None
    local = host in ("127.0.0.1", "localhost")
    app = create_app(settings, host=host, url=f"http://127.0.0.1:{port}" if local else None)
    uvicorn.run(app, host=host, port=port, log_level="info", server_header=False)
