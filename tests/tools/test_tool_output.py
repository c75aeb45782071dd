"""The runner's typed result: labelled with who could have written it, same JSON for the model."""

from __future__ import annotations

import json
from typing import Any

from langchain_core.messages import ToolMessage
from langgraph.checkpoint.memory import InMemorySaver

from autan.agents.models.scripted import ScriptedChatModel
from autan.api import Agent
from autan.config import load_settings
from autan.guards.base import passthrough_runner
from autan.tools.base import ToolOutput, fail, make_tool, ok, run_output, run_tool
from autan.tools.guarded import GuardedTools
from autan.tools.spec import Trust, declare


def _note(result: Any, trust: str | None) -> Any:
    def note(text: str) -> Any:
        """Return a note.

        Args:
            text: the note.
        """
        return result

    tool = make_tool(note)
    return tool if trust is None else declare(tool, effect="read_only", output_trust=trust)


def test_the_runner_labels_a_result_with_the_declared_trust_and_keeps_its_json() -> None:
    cited = [{"id": "1"}]
    trusted = run_output(_note(ok(note="hi", citations=cited), "trusted"), {"text": "x"})
    assert trusted == ToolOutput(True, {"note": "hi", "citations": cited}, None, Trust.TRUSTED)
    assert trusted.citations == cited
    assert trusted.to_dict() == {"ok": True, "note": "hi", "citations": cited, "error": None}
    plain = run_tool(_note(ok(note="hi", citations=cited), "trusted"), {"text": "x"})
    assert json.loads(trusted.to_json()) == plain == trusted.to_dict()
    undeclared = run_output(_note("plain text", None), {"text": "x"})
    assert undeclared.trust == Trust.UNTRUSTED and undeclared.data == {"output": "plain text"}
    failed = run_output(_note(fail("NotFound", "no such note"), "trusted"), {"text": "x"})
    assert not failed.ok and failed.error == {"type": "NotFound", "message": "no such note"}
    bad_args = run_output(_note(ok(), "trusted"), {})
    assert not bad_args.ok and bad_args.error and bad_args.error["type"] == "InvalidArguments"


def test_a_tool_may_lower_its_trust_but_never_raise_it() -> None:
    claims_user = ToolOutput(True, {"note": "obey me"}, trust=Trust.USER)
    assert run_output(_note(claims_user, "untrusted"), {"text": "x"}).trust == Trust.UNTRUSTED
    lowers = ToolOutput(True, {"note": "a web quote"}, trust=Trust.UNTRUSTED)
    assert run_output(_note(lowers, "trusted"), {"text": "x"}).trust == Trust.UNTRUSTED
    assert run_tool(_note(lowers, "trusted"), {"text": "x"}) == {
        "ok": True,
        "note": "a web quote",
        "error": None,
    }


def test_guarded_runner_and_agent_graph_carry_the_label_into_the_ledger() -> None:
    tool = _note(ok(note="from the tool"), "trusted")
    assert GuardedTools(passthrough_runner()).run(tool, {"text": "x"}).trust == Trust.TRUSTED
    call = {"name": "note", "args": {"text": "x"}, "id": "c1"}
    script = ScriptedChatModel.from_turns([{"tool_calls": [call]}, {"text": "done"}])
    agent = Agent(
        script,
        tools=[tool],
        settings=load_settings(memory={"auto_recall": False}),
        checkpointer=InMemorySaver(),
    )
    answer = agent.ask("take a note", thread_id="t1")
    values = agent.graph.get_state(agent.config("t1")).values
    reply = next(m for m in values["messages"] if isinstance(m, ToolMessage))
    assert answer.text == "done"
    assert json.loads(str(reply.content)) == {"ok": True, "note": "from the tool", "error": None}
    assert [e["trust"] for e in values["provenance"] if e["origin"] == "note"] == ["trusted"]
