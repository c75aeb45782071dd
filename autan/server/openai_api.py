"""OpenAI-compatible ``GET /v1/models`` and ``POST /v1/chat/completions`` (JSON and SSE).

The agent answers through the same graph as ``autan ask``. What a plain OpenAI client does not
know travels in an ``autan`` field: on the completion (thread, run, sources, steps, verdicts,
a pending approval) and, when streaming, on extra chunks whose ``delta`` is empty (tool calls,
tool results, guard verdicts, the final run record); plain clients see empty deltas and skip them.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any, Literal

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from autan.errors import BackendError, UserInputError
from autan.server.gate import body_of, error_body, owner_of
from autan.server.runs import finished, items, new_run, owned_thread, sse, start_run
from autan.server.state import ServerState

MODEL_ID = "autan"


class ChatMessage(BaseModel):
    """One message of the OpenAI wire format (extra fields are accepted and ignored)."""

    model_config = ConfigDict(extra="allow")
    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[dict[str, Any]] | None = None


class ChatRequest(BaseModel):
    """The fields of a chat completion request autan uses; ``thread_id`` is autan's own."""

    model_config = ConfigDict(extra="allow")
    model: str = MODEL_ID
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    stream_options: dict[str, Any] | None = None
    thread_id: str | None = None


def _text(message: ChatMessage) -> str:
    if isinstance(message.content, list):
        return "".join(str(p.get("text", "")) for p in message.content if p.get("type") == "text")
    return message.content or ""


def history(messages: list[ChatMessage]) -> list[BaseMessage]:
    """User and assistant turns as LangChain messages (the agent keeps its own system prompt)."""
    if messages[-1].role != "user" or not _text(messages[-1]).strip():
        raise UserInputError("the last message must be a non-empty user message")
    out: list[BaseMessage] = []
    for m in messages:
        if m.role == "user":
            out.append(HumanMessage(content=_text(m)))
        elif m.role == "assistant" and _text(m):
            out.append(AIMessage(content=_text(m)))
    return out


def waiting_text(run: dict[str, Any]) -> str:
    """What a plain client is shown when a run waits for a human decision."""
    calls = ", ".join(c.get("name", "?") for c in (run.get("interrupt") or {}).get("calls", []))
    return (
        f"[waiting for approval: {calls or 'a held step'}; approve or deny it in the autan "
        f"web page or with POST /v1/runs/{run['run_id']}/resume]"
    )


async def _begin(request: Request) -> tuple[ChatRequest, Any, dict[str, Any]]:
    state: ServerState = request.app.state.autan
    owner = owner_of(request)
    body = await body_of(request, ChatRequest)
    turns = history(body.messages)
    if body.thread_id:
        thread = owned_thread(state, owner, body.thread_id)
        question: Any = turns[-1].content
    else:
        from autan.api import new_thread_id

        thread = new_thread_id()  # claimed with the run's record, in one commit
        question = turns
    run = new_run(owner, thread, str(turns[-1].content))
    queue = await start_run(state, run, question, new_thread=not body.thread_id)
    return body, queue, run


async def models(request: Request) -> Response:
    """The one model this server offers: the autan agent."""
    spec = request.app.state.autan.settings.model.spec
    return JSONResponse(
        {
            "object": "list",
            "data": [
                {
                    "id": MODEL_ID,
                    "object": "model",
                    "created": 0,
                    "owned_by": "autan",
                    "autan": {"planner": spec},
                }
            ],
        }
    )


async def chat_completions(request: Request) -> Response:
    """A chat completion: one agent turn, as JSON or as an SSE stream of chunks."""
    body, queue, run = await _begin(request)
    if body.stream:
        usage = bool((body.stream_options or {}).get("include_usage"))
        return StreamingResponse(_chunks(queue, run, usage), media_type="text/event-stream")
    record = await finished(queue)
    if record.get("status") == "failed":
        raise BackendError(str(record.get("error")))
    waiting = record.get("status") == "interrupted"
    text = waiting_text(record) if waiting else record.get("answer") or ""
    return JSONResponse(
        {
            "id": f"chatcmpl-{run['run_id']}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text},
                    "finish_reason": "stop",
                }
            ],
            "usage": openai_usage(record),
            "autan": _extension(record),
        }
    )


def openai_usage(record: dict[str, Any]) -> dict[str, int]:
    """The run's planner token counts in OpenAI's names (zeros when the model reports none)."""
    usage = record.get("usage") or {}
    prompt, completion = int(usage.get("input_tokens", 0)), int(usage.get("output_tokens", 0))
    total = int(usage.get("total_tokens", 0)) or prompt + completion
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": total}


def _extension(record: dict[str, Any]) -> dict[str, Any]:
    keys = ("thread_id", "run_id", "status", "sources", "steps", "verdicts", "interrupt")
    return {k: record.get(k) for k in keys}


def _chunk_head(run_id: str) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-{run_id}",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": MODEL_ID,
    }


def _chunk(run_id: str, delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
    choices = [{"index": 0, "delta": delta, "finish_reason": finish}]
    return sse({**_chunk_head(run_id), "choices": choices, **extra})


async def _chunks(queue: Any, run: dict[str, Any], usage: bool) -> AsyncIterator[str]:
    rid = run["run_id"]
    yield _chunk(
        rid,
        {"role": "assistant", "content": ""},
        autan={"event": "run", "data": {"thread_id": run["thread_id"], "run_id": rid}},
    )
    async for kind, data in items(queue):
        if kind == "token":
            yield _chunk(rid, {"content": data["text"]})
        elif kind == "answer" and not data.get("streamed"):
            yield _chunk(rid, {"content": data.get("text", "")})
        elif kind == "interrupt":
            yield _chunk(rid, {"content": waiting_text({"run_id": rid, "interrupt": data})})
        if kind == "end" and data.get("status") == "failed":
            yield sse(error_body("BackendError", str(data.get("error")), 502))
        elif kind == "end":
            yield _chunk(rid, {}, "stop", autan={"event": "end", "data": data})
        elif kind != "token":
            yield _chunk(rid, {}, autan={"event": kind, "data": data})
        if kind == "end" and usage:  # OpenAI's last chunk: no choices, the totals
            yield sse({**_chunk_head(rid), "choices": [], "usage": openai_usage(data)})
    yield "data: [DONE]\n\n"


routes = [
    Route("/v1/models", models, methods=["GET"]),
    Route("/v1/chat/completions", chat_completions, methods=["POST"]),
]
