"""search_docs: hybrid search over the ingested documents, returning passages with citations.

Each citation carries a stable ``key`` (the chunk id); the agent's tools node renumbers ``id``
turn-wide so the planner can cite [1], [2] and the CLI can list the sources.
"""

from __future__ import annotations

from typing import Any

from langchain_core.tools import BaseTool
from pydantic import BaseModel, Field

from autan.config import Settings
from autan.memory.lc_sources import DocSource, doc_source
from autan.memory.retriever import Retriever, make_filter
from autan.tools.base import ToolResult, make_tool, ok
from autan.tools.spec import Effect, Trust, declare


class DocFilters(BaseModel):
    """Optional conditions on the passages searched."""

    source: str | None = Field(None, description="exact file path of the document")
    path_prefix: str | None = Field(None, description="only documents under this folder")
    tags: list[str] = Field(default_factory=list, description="tags every passage must have")
    after: str | None = Field(None, description="ISO date; documents modified on or after it")
    before: str | None = Field(None, description="ISO date; documents modified before it")


def make_search_docs(settings: Settings, source: DocSource | None = None) -> BaseTool:
    """The search_docs tool over the configured collection (opened on first call).

    ``source`` swaps the backend: any LangChain ``VectorStore`` or ``BaseRetriever`` (or an
    autan ``Retriever``); the tool's arguments, filters and citations stay the same.
    """
    retriever = doc_source(source) if source is not None else Retriever(settings)

    def search_docs(query: str, k: int = 5, filters: DocFilters | None = None) -> ToolResult:
        """Search the user's ingested documents and return the most relevant passages.

        Cite passages in your answer by their citation id, like [1].

        Args:
            query: What to look for, in natural language or keywords.
            k: How many passages to return (1-20).
            filters: Optional conditions: source, path_prefix, tags, after, before.
        """
        values: dict[str, Any] | None
        if isinstance(filters, BaseModel):
            values = filters.model_dump(exclude_none=True)
        else:
            values = dict(filters or {})
        citations = retriever.cite(query, max(1, min(int(k), 20)), make_filter(values))
        return ok(
            query=query,
            collection=retriever.collection,
            count=len(citations),
            citations=citations,
        )

    return declare(make_tool(search_docs), effect=Effect.READ_ONLY, output_trust=Trust.UNTRUSTED)
