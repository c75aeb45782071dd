"""What each step kind does, and the journaled attempt loop (retry, timeout, idempotency key)."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.tools import BaseTool
from langgraph.checkpoint.base import BaseCheckpointSaver

from autan.automations.journal import Journal, NeedsHuman, StepFailed, call_with_timeout
from autan.automations.schema import AgentStep, LlmStep, MapStep, StepBase, ToolStep
from autan.automations.template import render_text, render_value
from autan.config import Settings
from autan.errors import AutanError, BackendError, SecurityViolation, UserInputError
from autan.guards.base import GuardRunner, Verdict, passthrough_runner
from autan.tools.base import run_output
from autan.tools.guarded import Ask, GuardedTools, deny
from autan.tools.idempotency import keyed
from autan.tools.provenance import Provenance, ledger_text
from autan.tools.registry import ToolRegistry
from autan.tools.spec import Trust, spec_of

Body = Callable[[], Any]


@dataclass
class StepEnv:
    """Everything steps share in one run: settings, journal, checkpointer, tools, guards, models."""

    settings: Settings
    journal: Journal
    saver: BaseCheckpointSaver[Any]
    model_spec: str
    extra_tools: dict[str, BaseTool] = field(default_factory=dict)
    guards: GuardRunner = field(default_factory=passthrough_runner)
    request: str = ""  # the user's own words for this run (the flow file), see run_ledger
    _models: dict[str, BaseChatModel] = field(default_factory=dict)

    def tool(self, name: str) -> BaseTool:
        """A tool by name: the run's own tools first, then the built-ins."""
        if name not in self.extra_tools:
            self.extra_tools[name] = ToolRegistry.configured(self.settings, [name]).get(name)
        return self.extra_tools[name]

    def model(self, spec: str | None) -> BaseChatModel:
        """A chat model by spec, loaded once per run."""
        from autan.agents.models.spec import load_model

        spec = spec or self.model_spec
        if spec not in self._models:
            self._models[spec] = load_model(spec, self.settings)
        return self._models[spec]


def execute(env: StepEnv, run_id: str, name: str, step: StepBase, body: Body) -> Any:
    """Run ``body`` as journaled attempts of step ``name``; a ``done`` attempt is replayed."""
    latest = env.journal.latest(run_id, name)
    if latest and latest[1] == "done":
        return latest[2]
    attempt = latest[0] + (0 if latest[1] == "started" else 1) if latest else 1
    first = attempt
    while True:
        key = f"{run_id}:{name}:{attempt}"
        env.journal.start(run_id, name, attempt, key)
        try:
            out = call_with_timeout(partial(_keyed, key, body), step.timeout_s)
        except NeedsHuman:
            raise
        except Exception as exc:  # noqa: BLE001 - every failure is recorded, then retried or raised
            message = (
                exc.one_line() if isinstance(exc, AutanError) else f"{type(exc).__name__}: {exc}"
            )
            last = attempt - first + 1 >= step.retry.attempts or not _retryable(exc)
            if last and step.continue_on_error:
                out = {"ok": False, "error": message}
                env.journal.finish(run_id, name, attempt, "done", out)
                return out
            env.journal.finish(run_id, name, attempt, "failed", message)
            if last:
                raise exc if isinstance(exc, AutanError) else StepFailed(message) from exc
            time.sleep(step.retry.backoff_s * 2 ** (attempt - first))
            attempt += 1
            continue
        env.journal.finish(run_id, name, attempt, "done", out)
        return out


def _keyed(key: str, body: Body) -> Any:
    with keyed(key):
        return body()


def _retryable(exc: BaseException) -> bool:
    """Input and security errors repeat identically; failures of tools and backends may not."""
    return isinstance(exc, StepFailed | BackendError) or not isinstance(exc, AutanError)


def render_args(step: ToolStep, ctx: Mapping[str, Any]) -> dict[str, Any]:
    """The step's arguments rendered against ``ctx``."""
    args = render_value(step.args, ctx, f"step {step.id} args")
    if not isinstance(args, dict):
        raise UserInputError(f"step {step.id}: args must render to a mapping")
    return args


def tool_body(
    env: StepEnv, step: ToolStep, ctx: Mapping[str, Any], args: Mapping[str, Any] | None = None
) -> Body:
    """Call the tool with rendered (or the given, already screened) arguments.

    ``ok: false`` fails the attempt.
    """
    tool = env.tool(step.tool)
    args = dict(args) if args is not None else render_args(step, ctx)

    def body() -> Any:
        out = run_output(tool, args)  # the journal keeps its JSON data, replayed on resume
        if not out.ok:
            err = out.error or {}
            raise StepFailed(f"tool {step.tool} failed: {err.get('message', err)}")
        return out.to_dict()

    return body


@dataclass
class Outcome:
    """A guarded step's output, its ledger entry, and whether a human refused it."""

    output: Any
    seen: list[dict[str, Any]] = field(default_factory=list)
    denied: str = ""


def asking(ask: Ask, denied: list[str]) -> Ask:
    """``ask`` that also notes when an escalation came back refused."""

    def wrapped(stage: str, verdict: Verdict) -> Verdict:
        out = ask(stage, verdict)
        if verdict.action == "escalate" and out.action == "block":
            denied.append(stage)
        return out

    return wrapped


def guarded_tool(
    env: StepEnv,
    run_id: str,
    name: str,
    step: ToolStep,
    ctx: Mapping[str, Any],
    book: Provenance,
    ask: Ask = deny,
) -> Outcome:
    """A tool step through the guarded runner: screen, run (journaled), record, guard output.

    A refusal fails the step with ``SecurityViolation`` (kept as its output under
    ``continue_on_error``); an escalation a human refused halts the run.
    """
    tool, runner, denied = env.tool(step.tool), GuardedTools(env.guards), list[str]()
    facts = {"run_id": run_id, "step": name}
    args = render_args(step, ctx)
    if not _done(env, run_id, name):
        screened = runner.screen(tool, args, book, ask=asking(ask, denied), facts=facts)
        if screened.refused is not None:
            return _refused(step, screened.refused, denied)
        args = screened.args
    raw = execute(env, run_id, name, step, tool_body(env, step, ctx, args))
    seen = runner.labelled(tool, args, raw, spec_of(tool).output_trust, book, origin=name)
    out = runner.output(tool.name, raw, ask=asking(ask, denied), facts=facts)
    if out.result.get("ok") is False and raw.get("ok") is not False:  # the output was withheld
        refused = _refused(step, out.result, denied)
        return Outcome(refused.output, [seen], refused.denied)
    return Outcome(out.result, [seen])


def _refused(step: ToolStep, result: dict[str, Any], denied: list[str]) -> Outcome:
    if denied:
        return Outcome(result, [], f"a human refused the {denied[0]} check at step {step.id}")
    if step.continue_on_error:
        return Outcome(result)
    raise SecurityViolation(f"step {step.id}: {result['error']['message']}")


def _done(env: StepEnv, run_id: str, name: str) -> bool:
    latest = env.journal.latest(run_id, name)
    return bool(latest and latest[1] == "done")


def derived(
    book: Provenance, name: str, output: Any, always_untrusted: bool = False
) -> dict[str, Any]:
    """The ledger entry of a model's output: untrusted once the run has seen untrusted content."""
    trust = Trust.UNTRUSTED if always_untrusted or book.tainted else Trust.TRUSTED
    return {"trust": trust.value, "origin": name, "text": ledger_text(output)}


def llm_body(env: StepEnv, step: LlmStep, ctx: Mapping[str, Any]) -> Body:
    """Ask the model; with a schema the reply must be JSON that validates."""
    from langchain_core.messages import HumanMessage, SystemMessage

    model = env.model(step.model)
    prompt = render_text(step.llm, ctx, f"step {step.id} llm")
    messages: list[Any] = [HumanMessage(content=prompt)]
    if step.system:
        messages.insert(0, SystemMessage(content=render_text(step.system, ctx, step.id)))

    def body() -> Any:
        reply = model.invoke(messages)
        text = reply.content if isinstance(reply.content, str) else str(reply.content)
        if step.json_schema is None:
            return text
        return parse_json_reply(text, step.json_schema)

    return body


def parse_json_reply(text: str, schema: dict[str, Any]) -> Any:
    """The JSON value in a model reply (code fences allowed), validated against ``schema``."""
    import jsonschema

    fenced = re.search(r"```(?:json)?\s*(.*?)```", text, re.S)
    raw = fenced.group(1) if fenced else text
    start = min((i for i in (raw.find("{"), raw.find("[")) if i >= 0), default=-1)
    try:
        value = json.loads(raw[start:] if start >= 0 else raw)
    except json.JSONDecodeError as exc:
        raise StepFailed(f"the model did not reply with JSON: {exc.msg}") from None
    try:
        jsonschema.validate(value, schema)
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "reply"
        raise StepFailed(
            f"the model's JSON does not match the schema at {where}: {exc.message}"
        ) from None
    return value


def agent_body(
    env: StepEnv, step: AgentStep, ctx: Mapping[str, Any], thread: str, resume: Any
) -> Body:
    """Run the agent graph on the sub-goal in its own durable thread; resume it when asked."""
    from autan.api import Agent

    goal = render_text(step.agent, ctx, f"step {step.id} agent")
    agent = Agent(
        step.model or env.model_spec,
        tools=step.tools,
        settings=env.settings,
        checkpointer=env.saver,
    )

    def body() -> Any:
        config = agent.config(thread)
        snap = agent.graph.get_state(config)
        if resume is not None and snap.interrupts:
            agent.resume(thread, resume)
        elif snap.next and not snap.interrupts:
            agent.graph.invoke(None, config)
        elif not snap.values:
            agent.run(goal, thread_id=thread)
        after = agent.graph.get_state(config)
        if after.interrupts:
            raise NeedsHuman(dict(after.interrupts[0].value))
        values = after.values
        return {"answer": str(values.get("answer", "")), "sources": values.get("sources") or []}

    return body


def map_items(
    env: StepEnv, run_id: str, step: MapStep, ctx: Mapping[str, Any], book: Provenance
) -> Outcome:
    """Run the inner step once per item, at most ``concurrency`` at a time; results in order.

    Inner tool steps go through the guarded runner; no human can answer inside a map, so an
    escalation there is refused.
    """
    items = render_value(step.map.over, ctx, f"step {step.id} map.over")
    if not isinstance(items, list | tuple):
        raise UserInputError(
            f"step {step.id}: map.over must give a list, not {type(items).__name__}"
        )
    inner = step.map.step
    seen: list[dict[str, Any]] = []

    def one(index: int, item: Any) -> Any:
        scope = {**ctx, step.map.item: item, "index": index}
        name = f"{step.id}[{index}]"
        if isinstance(inner, ToolStep):
            done = guarded_tool(env, run_id, name, inner, scope, book)
            seen.extend(done.seen)
            return done.output
        if isinstance(inner, LlmStep):
            body = llm_body(env, inner, scope)
        else:
            body = agent_body(env, inner, scope, f"run:{run_id}:{name}", None)
        out = execute(env, run_id, name, inner, body)
        seen.append(derived(book, name, out, isinstance(inner, AgentStep)))
        return out

    with ThreadPoolExecutor(max_workers=step.map.concurrency) as pool:
        outputs = list(pool.map(one, range(len(items)), items))
    return Outcome(outputs, seen)
