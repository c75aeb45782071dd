"""`make demo`: autan's main job, offline and deterministic.

A scripted planner drives real tools through the real LangGraph agent graph, streaming each
step (planner → tool call → tool result → answer), with every edge passing a guard node.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from rich.console import Console
from rich.rule import Rule

from autan import Agent, load_settings
from autan.cli.render import render

console = Console(stderr=True)


def banner(title: str) -> None:
    console.print(Rule(f"[bold]{title}"))


def garden(data_dir: Path) -> None:
    banner("1. A multi-step task: the scripted planner calls real tools")
    settings = load_settings(data_dir=data_dir, workspace=data_dir)
    agent = Agent("scripted:builtin", settings=settings)
    question = "What is the area of a 12.5 m by 8 m garden and how much fence does it need?"
    console.print(f"[bold]you>[/bold] {question}")
    render(agent.stream(question))


def how_to_switch() -> None:
    banner("Use a real Mistral model")
    console.print(
        "  autan ask --model local:mistralai/Mistral-7B-Instruct-v0.3 \"...\"   "
        "(weights on disk or in your Hugging Face cache)\n"
        "  autan ask --model openai:http://127.0.0.1:11434/v1#mistral \"...\"   "
        "(Ollama, vLLM, llama.cpp or TGI serving Mistral)"
    )


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="autan-demo-") as tmp:
        garden(Path(tmp))
    how_to_switch()
    return 0


if __name__ == "__main__":
    sys.exit(main())
