"""LangChain messages ⇄ the OpenAI chat-completions wire format (vLLM, Ollama, llama.cpp, TGI)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    InvalidToolCall,
    ToolCall,
    ToolCallChunk,
)
from langchain_core.messages.ai import UsageMetadata
from langchain_core.messages.tool import invalid_tool_call


def _content(message: BaseMessage) -> str:
    if isinstance(message.content, str):
        return message.content
    parts = [p if isinstance(p, str) else str(p.get("text", "")) for p in message.content]
    return "".join(parts)


def to_wire(message: BaseMessage) -> dict[str, Any]:
    """One message as an OpenAI chat message dict."""
    role = {"human": "user", "ai": "assistant", "system": "system", "tool": "tool"}.get(
        message.type, "user"
    )
    wire: dict[str, Any] = {"role": role, "content": _content(message)}
    if isinstance(message, AIMessage) and message.tool_calls:
        wire["tool_calls"] = [
            {
                "id": c["id"],
                "type": "function",
                "function": {"name": c["name"], "arguments": json.dumps(c["args"])},
            }
            for c in message.tool_calls
        ]
        wire["content"] = wire["content"] or None
    if message.type == "tool":
        wire["tool_call_id"] = getattr(message, "tool_call_id", "")
    return wire


def wire_tool_choice(choice: Any) -> Any:
    """LangChain's tool_choice spellings in OpenAI's form."""
    if choice in ("any", "required", True):
        return "required"
    if choice in ("auto", "none") or choice is None or isinstance(choice, dict):
        return choice
    return {"type": "function", "function": {"name": str(choice)}}


def _parse_call(raw: dict[str, Any]) -> ToolCall | InvalidToolCall:
    fn = raw.get("function") or {}
    name, args_text, call_id = fn.get("name") or "", fn.get("arguments") or "{}", raw.get("id")
    try:
        args = json.loads(args_text) if isinstance(args_text, str) else args_text
    except json.JSONDecodeError as exc:
        return invalid_tool_call(
            name=name, args=args_text, id=call_id, error=f"arguments are not JSON: {exc.msg}"
        )
    if not isinstance(args, dict):
        return invalid_tool_call(
            name=name, args=str(args_text), id=call_id, error="arguments must be a JSON object"
        )
    return ToolCall(name=name, args=args, id=call_id)


def _usage(body: dict[str, Any]) -> UsageMetadata | None:
    usage = body.get("usage") or None
    if not usage:
        return None
    prompt, completion = int(usage.get("prompt_tokens", 0)), int(usage.get("completion_tokens", 0))
    return UsageMetadata(
        input_tokens=prompt, output_tokens=completion, total_tokens=prompt + completion
    )


def from_wire(body: dict[str, Any]) -> AIMessage:
    """The AI message of a non-streamed chat-completions response."""
    choice = (body.get("choices") or [{}])[0]
    msg = choice.get("message") or {}
    calls = [_parse_call(c) for c in msg.get("tool_calls") or ()]
    valid = [c for c in calls if "error" not in c]
    invalid = [c for c in calls if "error" in c]
    return AIMessage(
        content=msg.get("content") or "",
        tool_calls=valid,  # type: ignore[arg-type]
        invalid_tool_calls=invalid,  # type: ignore[arg-type]
        usage_metadata=_usage(body),
        response_metadata={
            "finish_reason": choice.get("finish_reason"),
            "model_name": body.get("model"),
        },
    )


def chunk_from_wire(body: dict[str, Any]) -> AIMessageChunk | None:
    """The message chunk of one streamed ``data:`` event (None when it carries nothing)."""
    choices: Sequence[dict[str, Any]] = body.get("choices") or ()
    usage = _usage(body)
    if not choices:
        return AIMessageChunk(content="", usage_metadata=usage) if usage else None
    delta = choices[0].get("delta") or {}
    chunks = [
        ToolCallChunk(
            name=(c.get("function") or {}).get("name"),
            args=(c.get("function") or {}).get("arguments"),
            id=c.get("id"),
            index=c.get("index", i),
        )
        for i, c in enumerate(delta.get("tool_calls") or ())
    ]
    finish = choices[0].get("finish_reason")
    return AIMessageChunk(
        content=delta.get("content") or "",
        tool_call_chunks=chunks,
        usage_metadata=usage,
        response_metadata={"finish_reason": finish} if finish else {},
    )
