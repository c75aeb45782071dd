"""Any LangChain tool runs inside autan's graph: here langchain-community's ListDirectoryTool."""

from __future__ import annotations

import warnings
from typing import Any

from autan import Agent, ScriptedChatModel

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from langchain_community.tools.file_management import ListDirectoryTool


def test_langchain_community_tool_runs_in_the_graph(settings: Any, workspace: Any) -> None:
    (workspace / "alpha.txt").write_text("a", encoding="utf-8")
    (workspace / "beta.txt").write_text("b", encoding="utf-8")
    model = ScriptedChatModel.from_turns(
        [
            {"tool_calls": [{"name": "list_directory", "args": {"dir_path": "."}}]},
            {"text": "Files: {{ results.list_directory.output }}"},
        ]
    )
    agent = Agent(model, settings=settings, tools=[ListDirectoryTool(root_dir=str(workspace))])
    answer = agent.ask("what files are there?")
    result = next(e.data["result"] for e in answer.events if e.kind == "tool_result")
    assert result["ok"] is True
    assert "alpha.txt" in result["output"] and "beta.txt" in result["output"]
    assert "alpha.txt" in answer.text
