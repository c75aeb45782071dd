"""What the server loads once and shares: the chat model, guards, saver, store and embedder.

Each API key (an *owner*) gets its own compiled agent, built on the shared parts: its documents
live in its own collections (``<key id>.<name>``), its long-term memory under its own user, so
one key's tools can never search another key's documents.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from autan.errors import ConfigError, UserInputError
from autan.memory.retriever import Retriever
from autan.server.metrics import Metrics
from autan.server.records import LOCAL, Records

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel
    from langgraph.checkpoint.base import BaseCheckpointSaver

    from autan.api import Agent
    from autan.config import Settings
    from autan.guards.base import GuardRunner
    from autan.memory.embeddings import Embedder
    from autan.memory.vectorstore import VectorStore

log = logging.getLogger("autan.server")


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and ``localhost``; anything else is reachable from outside."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def collection_for(owner: str, name: str) -> str:
    """The physical collection behind an owner's collection ``name``."""
    from autan.memory.vectorstore import check_name

    if "." in check_name(name):
        raise UserInputError(
            f"bad collection name {name!r}: '.' separates a key's namespace over the server",
            hint="use letters, digits, '_' or '-'",
        )
    return check_name(name if owner == LOCAL else f"{owner}.{name}")


class SharedIndex:
    """One store and one embedder for the whole process, opened on first use."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.root = Retriever(settings)  # owns the lazily opened store and embedder

    @property
    def store(self) -> VectorStore:
        """The configured vector store."""
        return self.root.store

    @property
    def embedder(self) -> Embedder:
        """The configured embedder."""
        return self.root.embedder

    def retriever(self, collection: str) -> Retriever:
        """A retriever over ``collection`` on the shared store and embedder."""
        return _SharedRetriever(self, collection)

    def close(self) -> None:
        """Release the store."""
        self.root.close()


class _SharedRetriever(Retriever):
    def __init__(self, index: SharedIndex, collection: str) -> None:
        super().__init__(index.settings, collection=collection)
        self._index = index

    @property
    def store(self) -> VectorStore:
        return self._index.store

    @property
    def embedder(self) -> Embedder:
        return self._index.embedder

    def close(self) -> None:
        """The shared store outlives every retriever."""


class RateLimiter:
    """A token bucket per owner: ``rate_per_min`` sustained, ``burst`` at once."""

    def __init__(self, rate_per_min: float, burst: int) -> None:
        self.rate = rate_per_min / 60.0
        self.burst = float(burst)
        self._buckets: dict[str, tuple[float, float]] = {}

    def allow(self, owner: str) -> float:
        """0 if the request may go ahead, else the seconds until it may."""
        now = time.monotonic()
        tokens, last = self._buckets.get(owner, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        if tokens < 1.0:
            self._buckets[owner] = (tokens, now)
            return (1.0 - tokens) / self.rate if self.rate > 0 else 60.0
        self._buckets[owner] = (tokens - 1.0, now)
        return 0.0


@dataclass
class ServerState:
    """Everything a request handler needs; built once in the app's lifespan."""

    settings: Settings
    records: Records
    require_keys: bool
    model: BaseChatModel | None = None
    guards: GuardRunner | None = None
    saver: BaseCheckpointSaver[Any] | None = None
    index: SharedIndex | None = None
    limiter: RateLimiter | None = None
    agents: dict[str, Agent] = field(default_factory=dict)
    active: dict[str, str] = field(default_factory=dict)  # thread id -> running run id
    tasks: dict[str, asyncio.Task[None]] = field(default_factory=dict)
    metrics: Metrics = field(default_factory=Metrics)
    _agent_lock: threading.Lock = field(default_factory=threading.Lock)

    def owner_settings(self, owner: str) -> Settings:
        """The settings an owner's agent runs with: its own collection and memory user."""
        s = self.settings
        if owner == LOCAL:
            return s
        retrieval = s.retrieval.model_copy(
            update={"collection": collection_for(owner, s.retrieval.collection)}
        )
        memory = s.memory.model_copy(update={"user": f"key:{owner}"})
        return s.model_copy(update={"retrieval": retrieval, "memory": memory})

    def agent_for(self, owner: str) -> Agent:
        """The owner's agent (built on first use, in a worker thread: it may load tools)."""
        with self._agent_lock:
            agent = self.agents.get(owner)
            if agent is None:
                agent = self._build_agent(owner)
                self.agents[owner] = agent
            return agent

    def _build_agent(self, owner: str) -> Agent:
        from autan.api import Agent, default_recall
        from autan.tools.registry import ToolRegistry
        from autan.tools.retrieval import make_search_docs

        if self.model is None or self.index is None:
            raise ConfigError("the server is still starting", hint="retry in a moment")
        settings = self.owner_settings(owner)
        registry = ToolRegistry.configured(settings)  # the same tools as the CLI agent
        if "search_docs" in registry:
            retriever = self.index.retriever(settings.retrieval.collection)
            registry.add(make_search_docs(settings, retriever))
        return Agent(
            self.model,
            tools=registry,
            settings=settings,
            guards=self.guards,
            checkpointer=self.saver,
            recall=default_recall(settings, registry.resources),
        )
