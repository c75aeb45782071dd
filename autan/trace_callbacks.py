"""LangChain callbacks that turn a LangGraph run into OpenTelemetry spans.

One span per graph run (``invoke_agent``), one per node, one per chat-model call (``chat``, with
model name, token counts and time to first token). The run's span and then each node's are made
current while they run, so the tool, guard and sandbox spans that code opens
(``autan.tracing.span``) nest under them, and so do the checks of streamed tokens.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.outputs import LLMResult

from autan import tracing


def _usage(response: LLMResult) -> tuple[int | None, int | None, str | None, str | None]:
    """Input and output tokens, the responding model and the finish reason of a chat result."""
    message = getattr(response.generations[0][0], "message", None) if response.generations else None
    usage = getattr(message, "usage_metadata", None) or {}
    meta = getattr(message, "response_metadata", None) or {}
    model = meta.get("model_name") or meta.get("model")
    return usage.get("input_tokens"), usage.get("output_tokens"), model, meta.get("finish_reason")


class TraceCallbacks(BaseCallbackHandler):
    """Spans for graph runs, nodes and model calls, parented by LangChain's run ids."""

    run_inline = True  # called in the node's own thread and context, so ``attach`` nests spans

    def __init__(self, agent_name: str = "autan") -> None:
        self.agent_name = agent_name
        self._spans: dict[UUID, Any] = {}
        self._tokens: dict[UUID, Any] = {}
        self._parents: dict[UUID, UUID | None] = {}
        self._first_token: dict[UUID, float] = {}

    def _parent_span(self, parent: UUID | None) -> Any:
        while parent is not None:
            if parent in self._spans:
                return self._spans[parent]
            parent = self._parents.get(parent)
        return None

    def _start(self, run_id: UUID, parent: UUID | None, name: str, attrs: dict[str, Any]) -> Any:
        from opentelemetry import trace

        tracer = tracing.tracer()
        parent_span = self._parent_span(parent)
        context = trace.set_span_in_context(parent_span) if parent_span is not None else None
        clean = {k: v for k, v in attrs.items() if v is not None}
        live = tracer.start_span(name, context=context, attributes=clean)
        self._spans[run_id] = live
        return live

    def _end(self, run_id: UUID, error: BaseException | None = None) -> None:
        from opentelemetry import context as otel_context
        from opentelemetry.trace import Status, StatusCode

        token = self._tokens.pop(run_id, None)
        if token is not None:
            otel_context.detach(token)
        live = self._spans.pop(run_id, None)
        self._parents.pop(run_id, None)
        if live is None:
            return
        if error is not None:
            if type(error).__name__ in ("GraphInterrupt", "GraphBubbleUp"):
                live.add_event("autan.interrupt")
            else:
                live.set_attribute("error.type", type(error).__name__)
                live.set_status(Status(StatusCode.ERROR, str(error)[:200]))
        live.end()

    # -- graph and nodes ---------------------------------------------------------------------
    def on_chain_start(
        self,
        serialized: dict[str, Any] | None,
        inputs: Any,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        """Open the run span (no parent) or a node span (the run named after its node)."""
        if tracing.tracer() is None:
            return
        meta = metadata or {}
        name = kwargs.get("name") or (serialized or {}).get("name")
        self._parents[run_id] = parent_run_id
        if parent_run_id is None:
            attrs = {
                "gen_ai.operation.name": "invoke_agent",
                "gen_ai.agent.name": self.agent_name,
                "gen_ai.conversation.id": meta.get("thread_id"),
            }
            self._current(
                run_id, self._start(run_id, None, f"invoke_agent {self.agent_name}", attrs)
            )
        elif name and name == meta.get("langgraph_node"):
            attrs = {"autan.node": name, "autan.step": meta.get("langgraph_step")}
            self._current(run_id, self._start(run_id, parent_run_id, f"node {name}", attrs))

    def _current(self, run_id: UUID, live: Any) -> None:
        """Make ``live`` the current span until its run ends (same thread and context)."""
        from opentelemetry import context as otel_context
        from opentelemetry import trace

        self._tokens[run_id] = otel_context.attach(trace.set_span_in_context(live))

    def on_chain_end(self, outputs: Any, *, run_id: UUID, **kwargs: Any) -> None:
        """Close the span of a run or node."""
        if tracing.tracer() is not None:
            self._end(run_id)

    def on_chain_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        """Close the span with its error (an interrupt is an event, not an error)."""
        if tracing.tracer() is not None:
            self._end(run_id, error)

    # -- model calls -------------------------------------------------------------------------
    def on_chat_model_start(
        self,
        serialized: dict[str, Any] | None,
        messages: Any,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        metadata: dict[str, Any] | None = None,
        invocation_params: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        """Open a ``chat`` span named after the model."""
        if tracing.tracer() is None:
            return
        meta = metadata or {}
        params = invocation_params or {}
        model = meta.get("ls_model_name") or params.get("model") or params.get("model_name")
        attrs = {
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": meta.get("ls_provider"),
            "gen_ai.request.model": model,
            "gen_ai.request.temperature": meta.get("ls_temperature"),
            "gen_ai.request.max_tokens": meta.get("ls_max_tokens"),
        }
        self._parents[run_id] = parent_run_id
        self._first_token[run_id] = time.perf_counter()
        self._start(run_id, parent_run_id, f"chat {model or 'model'}", attrs)

    def on_llm_new_token(self, token: Any, *, run_id: UUID, **kwargs: Any) -> None:
        """Record the time to the first streamed token."""
        started = self._first_token.pop(run_id, None)
        live = self._spans.get(run_id)
        if started is not None and live is not None:
            live.set_attribute("autan.time_to_first_token_s", time.perf_counter() - started)

    def on_llm_end(self, response: LLMResult, *, run_id: UUID, **kwargs: Any) -> None:
        """Put token counts, response model and finish reason on the span and close it."""
        live = self._spans.get(run_id)
        self._first_token.pop(run_id, None)
        if live is None:
            return
        tokens_in, tokens_out, model, finish = _usage(response)
        for key, value in (
            ("gen_ai.usage.input_tokens", tokens_in),
            ("gen_ai.usage.output_tokens", tokens_out),
            ("gen_ai.response.model", model),
        ):
            if value is not None:
                live.set_attribute(key, value)
        if finish:
            live.set_attribute("gen_ai.response.finish_reasons", [str(finish)])
        self._end(run_id)

    def on_llm_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        """Close the model span with its error."""
        self._first_token.pop(run_id, None)
        if tracing.tracer() is not None:
            self._end(run_id, error)


def trace_callbacks(agent_name: str = "autan") -> list[BaseCallbackHandler]:
    """The callbacks to add to a run's config: none when tracing is off."""
    return [TraceCallbacks(agent_name)] if tracing.enabled() else []
