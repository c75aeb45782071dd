"""``autan ask``, ``autan chat``, ``autan graph`` and ``autan version``."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from autan import __version__
from autan.cli._common import emit_json, server_client, settings_for
from autan.errors import NotFoundError, UserInputError

ModelOpt = Annotated[
    str | None,
    typer.Option(
        "--model", "-m", help="scripted:<file> | local:<hf-id-or-path> | openai:<url>#<model>"
    ),
]
ToolsOpt = Annotated[
    str | None, typer.Option("--tools", help="comma-separated tool names (default: all)")
]


SessionOpt = Annotated[
    str | None,
    typer.Option("--session", "-s", help="a named, durable conversation to continue"),
]


def _agent(model: str | None, tools: str | None, durable: bool = False) -> Any:
    from autan.api import Agent, default_recall
    from autan.tools.registry import ToolRegistry

    settings = settings_for(model)
    names = [t.strip() for t in tools.split(",") if t.strip()] if tools else None
    saver = None
    if durable:
        from autan.memory.checkpoints import open_checkpointer

        saver = open_checkpointer(settings)
    tools_ = ToolRegistry.configured(settings, names)
    recall = default_recall(settings, tools_.resources)
    return Agent(settings=settings, tools=tools_, checkpointer=saver, recall=recall)


def _thread(session: str | None, thread: str | None) -> str:
    """The thread id: ``session:NAME`` for a named session, else the given or a new id."""
    import uuid

    if session is not None and thread is not None:
        raise UserInputError("give --session or --thread, not both")
    if session is not None:
        from autan.cli.sessions import session_thread

        return session_thread(session)
    return thread or uuid.uuid4().hex[:12]


def _waiting(thread: str) -> UserInputError:
    return UserInputError(
        f"the run is waiting for a human decision; its id is {thread}",
        hint=f"answer with: autan ask --resume {thread} --decision approve|deny "
        "(add --session NAME for a session)",
    )


def refused(verdicts: list[dict[str, Any]]) -> bool:
    """Whether a guard blocked the question or the answer of this turn (a refusal: exit 2)."""
    return any(
        v.get("action") == "block" and v.get("stage") in ("input", "output") for v in verdicts
    )


def _turn(agent: Any, question: str | None, thread: str, resume: Any = None) -> bool:
    """Run a turn at the terminal; True when a guard refused it."""
    from autan.cli.render import ask_human, render

    seen: list[dict[str, Any]] = []

    def tee(events: Any) -> Any:
        for e in events:
            if e.kind == "guard":
                seen.append(e.data)
            yield e

    pending = render(tee(agent.stream(question, thread_id=thread, resume=resume)))
    while pending is not None:
        if not sys.stdin.isatty():
            raise _waiting(thread)
        pending = render(tee(agent.stream(None, thread_id=thread, resume=ask_human(pending))))
    return refused(seen)


def ask(
    question: Annotated[str | None, typer.Argument(help="what to ask")] = None,
    model: ModelOpt = None,
    tools: ToolsOpt = None,
    thread: Annotated[str | None, typer.Option(help="conversation thread id")] = None,
    session: SessionOpt = None,
    json_out: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
    resume: Annotated[
        str | None, typer.Option("--resume", help="answer the run RUN waiting for approval")
    ] = None,
    decision: Annotated[
        str | None, typer.Option("--decision", help="approve | deny (with --resume)")
    ] = None,
) -> None:
    """Ask one question; the agent plans, calls tools and answers with its sources.

    A run that stops for approval prints its id; without a terminal, answer it with
    ``autan ask --resume RUN --decision approve|deny``. A guard refusal exits with 2.
    """
    value = _resume_value(question, resume, decision)
    if resume is not None and session is None:
        thread = resume
    elif resume is None and not (question or "").strip():
        raise UserInputError("the question is empty", hint='autan ask "your question"')
    if session is None and resume is None and (client := server_client(model, tools)):
        from autan.cli import remote

        remote.ask(client, question or "", thread, json_out)
        return
    thread_id = _thread(session, thread)
    agent = _agent(model, tools, durable=True)  # a run waiting for approval outlives the process
    if resume is not None:
        _check_waiting(agent, thread_id)
    if json_out:
        answer = agent.run(question, thread_id=thread_id, resume=value)
        emit_json(
            {
                "answer": answer.text,
                "sources": answer.sources,
                "thread_id": answer.thread_id,
                "verdicts": answer.verdicts,
                "steps": [e.data for e in answer.events if e.kind in ("tool_call", "tool_result")],
                "interrupt": answer.interrupt,
            }
        )
        if refused(answer.verdicts):
            raise typer.Exit(2)
        return
    if _turn(agent, question, thread_id, resume=value):
        raise typer.Exit(2)


def _check_waiting(agent: Any, thread_id: str) -> None:
    snap = agent.graph.get_state(agent.config(thread_id))
    if not snap.values:
        raise NotFoundError(f"no run {thread_id!r} to resume", hint="use the id the run printed")
    if not snap.interrupts:
        raise UserInputError(f"run {thread_id!r} is not waiting for a decision")


def _resume_value(question: str | None, resume: str | None, decision: str | None) -> Any:
    """The resume value of ``--resume RUN --decision D``; usage errors for half of it."""
    if resume is None:
        if decision is not None:
            raise UserInputError("--decision answers a waiting run; give --resume RUN too")
        return None
    if question:
        raise UserInputError("--resume continues a waiting run; give no question with it")
    if decision not in ("approve", "deny"):
        raise UserInputError(
            f"--decision must be approve or deny, not {decision!r}",
            hint=f"autan ask --resume {resume} --decision approve",
        )
    return {"decision": decision}


def _resume_session(agent: Any, session: str, thread_id: str) -> None:
    """Say where a session stands; finish a turn it left waiting for a human decision."""
    from autan.cli.render import ask_human

    snap = agent.graph.get_state(agent.config(thread_id))
    turns = sum(1 for m in snap.values.get("messages", []) if m.type == "human")
    state = f"resuming session {session!r} ({turns} turns)" if turns else "new session"
    typer.echo(f"autan chat: {state}; empty line to quit", err=True)
    if snap.interrupts and sys.stdin.isatty():
        _turn(agent, None, thread_id, resume=ask_human(dict(snap.interrupts[0].value)))


def chat(
    model: ModelOpt = None,
    tools: ToolsOpt = None,
    thread: Annotated[str | None, typer.Option(help="conversation thread id")] = None,
    session: SessionOpt = None,
) -> None:
    """A streaming conversation; an empty line or Ctrl-D ends it. --session NAME resumes one."""
    thread_id = _thread(session, thread)
    agent = _agent(model, tools, durable=session is not None)
    if session is not None:
        _resume_session(agent, session, thread_id)
    else:
        typer.echo(f"autan chat (thread {thread_id}); empty line to quit", err=True)
    while True:
        try:
            line = input("you> ")
        except EOFError:
            break
        if not line.strip():
            break
        _turn(agent, line, thread_id)


def graph(
    mermaid: Annotated[bool, typer.Option("--mermaid", help="print Mermaid source")] = True,
) -> None:
    """Print the agent graph (nodes and edges) as Mermaid."""
    from autan.agents.models.scripted import ScriptedChatModel
    from autan.api import Agent

    agent = Agent(ScriptedChatModel.from_turns([]), settings=settings_for(), tools=[])
    drawn = agent.graph.get_graph()
    typer.echo(drawn.draw_mermaid() if mermaid else drawn.draw_ascii())


def version(
    json_out: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """Print autan's version and the versions of the libraries it stands on."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as pkg_version

    libs: dict[str, str | None] = {}
    for name in ("langgraph", "langchain-core", "transformers", "torch", "qdrant-client", "httpx"):
        try:
            libs[name] = pkg_version(name)
        except PackageNotFoundError:
            libs[name] = None
    if json_out:
        emit_json({"autan": __version__, "python": sys.version.split()[0], **libs})
        return
    typer.echo(f"autan {__version__} (python {sys.version.split()[0]})")
    for name, v in libs.items():
        typer.echo(f"  {name} {v or 'not installed'}")


def register(app: typer.Typer) -> None:
    """Add this group's commands to the app."""
    app.command()(ask)
    app.command()(chat)
    app.command()(graph)
    app.command()(version)
