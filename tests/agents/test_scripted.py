"""The scripted planner: empty replies still stream, the demo script answers off-topic searches."""

from __future__ import annotations

import json

from langchain_core.messages import AIMessage, HumanMessage, ToolMessage

from autan.agents.models.scripted import ScriptedChatModel


def test_an_empty_scripted_reply_streams_one_empty_message() -> None:
    model = ScriptedChatModel.from_turns([{"text": ""}])
    chunks = list(model.stream("hi"))
    assert chunks and "".join(str(c.content) for c in chunks) == ""
    assert model.invoke("hi").content == ""


def test_builtin_script_answers_when_the_passages_are_about_something_else() -> None:
    model = ScriptedChatModel.from_source("builtin")
    question = "What do my papers say about sourdough?"
    first = model.invoke([HumanMessage(question)])
    assert isinstance(first, AIMessage) and first.tool_calls
    result = {"ok": True, "citations": [{"id": 1, "text": "Sourdough needs a starter."}]}
    messages = [HumanMessage(question), first] + [
        ToolMessage(json.dumps(result), tool_call_id=c["id"], name=c["name"])
        for c in first.tool_calls
    ]
    streamed = "".join(str(c.content) for c in model.stream(messages))
    assert "scripted demo planner" in streamed
    assert "--model" in streamed
