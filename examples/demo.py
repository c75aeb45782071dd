"""`make demo`: autan's main job, offline and deterministic.

Each part runs the real CLI in-process (the same commands a user types) on the real LangGraph
agent graph, with real tools and the default guard policy; only the planner is scripted
(`scripted:builtin`), so the run needs no model server and no downloads. The last part loads a
real small model (SmolLM2-135M, shipped in a package) and makes a grammar-constrained tool call.
"""

from __future__ import annotations

import io
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from contextlib import redirect_stdout
from pathlib import Path

from rich.console import Console
from rich.rule import Rule

from autan.cli.app import main as autan

HERE = Path(__file__).resolve().parent
console = Console(stderr=True, highlight=False)


def step(title: str, *commands: list[str]) -> None:
    """Show a section title, then run each command as `autan ...` and stop on failure."""
    if title:
        console.print(Rule(f"[bold]{title}"))
    for args in commands:
        console.print(f"\n[bold green]$ autan {shlex.join(args)}[/bold green]")
        code = autan(args)
        if code != 0:
            raise SystemExit(f"demo step failed: autan {shlex.join(args)} exited {code}")


def run_demo(data_dir: Path) -> None:
    os.environ["AUTAN_DATA_DIR"] = str(data_dir)
    os.environ["AUTAN_WORKSPACE"] = str(HERE / "workspace")
    os.environ["AUTAN_MODEL__SPEC"] = "scripted:builtin"
    step(
        "1. A multi-step task: the planner calls real tools, each step streamed",
        ["ask", "What is the area of a 12.5 m by 8 m garden and how much fence does it need?"],
    )
    papers = str(HERE / "papers")
    step(
        "2. Literature assistant: incremental ingestion, hybrid search, a cited answer",
        ["ingest", papers],
        ["ingest", papers],
        ["ask", "What do my papers say about the quadratic cost of attention?"],
    )
    step(
        "3. Coding assistant: code runs in a bubblewrap sandbox that keeps its state",
        ["ask", "Sum the primes below 1000 with Python in the sandbox"],
    )
    step(
        "4. Guardrails: an indirect prompt injection is withheld, a leaked key is redacted",
        ["ask", "Summarise the meeting notes and check the deploy settings"],
    )
    automation(data_dir)
    coding(data_dir)


def start_flow(flow: str) -> str:
    """Start a flow with --json, show its pause, and return its run id."""
    console.print(f"\n[bold green]$ autan run {flow} --json[/bold green]")
    out = io.StringIO()
    with redirect_stdout(out):
        code = autan(["run", flow, "--json"])
    print(out.getvalue().strip())
    if code != 0:
        raise SystemExit(f"demo step failed: autan run exited {code}")
    return str(json.loads(out.getvalue())["run_id"])


def automation(data_dir: Path) -> None:
    """A YAML automation pauses for approval, then resumes from its checkpoint."""
    workspace = data_dir / "automation"
    shutil.copytree(HERE / "automations", workspace)
    os.environ["AUTAN_WORKSPACE"] = str(workspace)
    flow = str(workspace / "docs_report.yaml")
    console.print(Rule("[bold]5. Automation: a YAML flow pauses for approval, then resumes"))
    run_id = start_flow(flow)
    step("", ["run", flow, "--resume", run_id, "--decision", "approve"], ["runs", "list"])
    console.print("\n[bold]report.md[/bold]")
    print((workspace / "report.md").read_text(encoding="utf-8").strip())


def coding(data_dir: Path) -> None:
    """Find why a test fails, test a fix on a sandboxed copy, apply it after approval."""
    here = data_dir / "coding"
    shutil.copytree(HERE / "automations", here)
    project = here / "project"
    os.environ["AUTAN_WORKSPACE"] = os.environ["AUTAN_SANDBOX__WORKSPACE"] = str(project)
    console.print(Rule("[bold]6. Coding assistant: a failing test, a fix tested in the sandbox"))
    git = shutil.which("git")
    if git:  # a repository, so git_diff can show what the approved fix changed
        for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "start"]):
            ident = ["-c", "user.name=demo", "-c", "user.email=demo@example.org"]
            subprocess.run([git, *ident, *args], cwd=project, check=True)
    step("", ["tool", "run", "grep", "--args", '{"pattern": "def sub"}'])
    flow = str(here / "fix_failing_test.yaml")
    run_id = start_flow(flow)
    # the guards ask first (the edit's path came from grep's output; the trial runs that edit),
    # then the review of the diff itself: three approvals
    for _ in range(3):
        step("", ["run", flow, "--resume", run_id, "--decision", "approve"])
    if git:
        step("", ["tool", "run", "git_diff"])


def local_model() -> None:
    console.print(Rule("[bold]7. A real small model makes a grammar-constrained tool call"))
    sys.path.insert(0, str(HERE))
    import local_tool_call

    if local_tool_call.main() != 0:
        raise SystemExit("demo step failed: the local model made no valid tool call")


def how_to_switch() -> None:
    console.print(Rule("[bold]Use a real Mistral model"))
    console.print(
        '  autan ask --model local:mistralai/Mistral-7B-Instruct-v0.3 "..."   '
        "(weights on disk or in your Hugging Face cache)\n"
        '  autan ask --model openai:http://127.0.0.1:11434/v1#mistral "..."   '
        "(Ollama, vLLM, llama.cpp or TGI serving Mistral)"
    )


def main() -> int:
    saved = dict(os.environ)
    with tempfile.TemporaryDirectory(prefix="autan-demo-") as tmp:
        run_demo(Path(tmp))
    os.environ.clear()
    os.environ.update(saved)  # the local model caches its converted weights in the real data dir
    local_model()
    how_to_switch()
    return 0


if __name__ == "__main__":
    sys.exit(main())
