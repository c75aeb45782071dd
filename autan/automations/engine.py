"""YAML automations compiled to a checkpointed LangGraph graph; start, resume and inspect runs.

Each step is a node (a branch is a node with conditional edges into its two step lists); the
graph is checkpointed in the run's thread ``run:<id>``, and each step attempt is journaled with
its idempotency key before it runs, so a resumed run neither loses nor repeats a finished step.
"""

from __future__ import annotations

import operator
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Annotated, Any, TypedDict

import yaml
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Command, interrupt

from autan.automations.journal import Journal, NeedsHuman
from autan.automations.schema import (
    AgentStep,
    ApprovalStep,
    BranchStep,
    Flow,
    LlmStep,
    MapStep,
    StepBase,
    ToolStep,
    load_flow,
)
from autan.automations.steps import (
    StepEnv,
    agent_body,
    derived,
    execute,
    guarded_tool,
    llm_body,
    map_items,
    render_args,
)
from autan.automations.template import condition, render_text, render_value
from autan.config import Settings, load_settings
from autan.errors import AutanError, UserInputError
from autan.guards.base import GuardRunner
from autan.memory.checkpoints import close_checkpointer, open_checkpointer
from autan.tools.guarded import settle
from autan.tools.provenance import Provenance
from autan.tools.spec import Trust, spec_of
from autan.tools.workspace.approval import preview


def _merge(old: dict[str, Any] | None, new: dict[str, Any] | None) -> dict[str, Any]:
    return {**(old or {}), **(new or {})}


class RunState(TypedDict, total=False):
    """A run's state: its variables, each finished step's output, and why it stopped early.

    ``provenance`` holds each step's raw output with its trust (see ``graphs.state``).
    """

    vars: dict[str, Any]
    steps: Annotated[dict[str, Any], _merge]
    halted: str
    provenance: Annotated[list[dict[str, Any]], operator.add]


@dataclass
class RunResult:
    """Where a run stands after ``start`` or ``resume``."""

    run_id: str
    status: str  # done | waiting | denied
    outputs: Any = None
    interrupt: dict[str, Any] | None = None
    steps: dict[str, Any] = field(default_factory=dict)


def decision_of(value: Any, call_id: str | None = None) -> tuple[str, dict[str, Any] | None]:
    """A human's resume value as (approve | deny | edit, edited args)."""
    if isinstance(value, Mapping) and call_id is not None and call_id in value:
        value = value[call_id]
    if isinstance(value, Mapping):
        args = value.get("args")
        return str(value.get("decision", "deny")), dict(args) if isinstance(args, Mapping) else None
    if isinstance(value, bool):
        return ("approve" if value else "deny"), None
    return str(value or "deny").strip().lower(), None


def with_shown(decision: Any, payload: Mapping[str, Any]) -> Any:
    """A decision on a tool step's edit, carrying the content hashes of the diff it was shown."""
    calls = [c for c in payload.get("calls") or [] if c.get("id") == payload.get("step")]
    shown = calls[0].get("preview") if calls else None
    if not isinstance(shown, Mapping) or "base" not in shown:
        return decision
    verdict, edited = decision_of(decision, payload.get("step"))
    return {"decision": verdict, "args": edited, "base": dict(shown["base"])}


def _already(env: StepEnv, run_id: str, name: str) -> bool:
    latest = env.journal.latest(run_id, name)
    return bool(latest and latest[1] == "done")


def _tool(
    env: StepEnv, run_id: str, step: ToolStep, ctx: Mapping[str, Any], book: Provenance
) -> dict[str, Any]:
    gated = (
        step.tool in env.settings.requires_approval
        or spec_of(env.tool(step.tool)).requires_approval
    )
    if gated and not _already(env, run_id, step.id):
        args = render_args(step, ctx)
        call = {"id": step.id, "name": step.tool, "args": args}
        shown = preview(env.tool(step.tool), args)
        if shown is not None:
            call["preview"] = shown
        value = interrupt({"type": "approval", "step": step.id, "calls": [call]})
        verdict, edited = decision_of(value, step.id)
        seen = value.get("base") if isinstance(value, Mapping) else None
        if verdict == "edit" and edited is not None:
            step = step.model_copy(update={"args": edited})
        elif verdict != "approve":
            return {"halted": f"a human denied the call to {step.tool} at step {step.id}"}
        elif seen and not args.get("base"):  # the edit runs against the content the human saw
            step = step.model_copy(update={"args": {**step.args, "base": seen}})
    ask = partial(settle, step=step.id)
    done = guarded_tool(env, run_id, step.id, step, ctx, book, ask)
    update: dict[str, Any] = {"steps": {step.id: done.output}, "provenance": done.seen}
    return {**update, "halted": done.denied} if done.denied else update


def _approval(
    env: StepEnv, run_id: str, step: ApprovalStep, ctx: Mapping[str, Any]
) -> dict[str, Any]:
    if not _already(env, run_id, step.id):
        message = render_text(step.approval, ctx, f"step {step.id} approval")
        value = interrupt({"type": "approval", "step": step.id, "message": message})
        approved = decision_of(value, step.id)[0] in ("approve", "edit")
    else:
        approved = True
    out = execute(env, run_id, step.id, step, lambda: {"approved": approved})
    if not out.get("approved"):
        return {"steps": {step.id: out}, "halted": f"a human denied step {step.id}"}
    return {"steps": {step.id: out}}


def _agent(env: StepEnv, run_id: str, step: AgentStep, ctx: Mapping[str, Any]) -> Any:
    thread = f"run:{run_id}:{step.id}"
    try:
        return execute(env, run_id, step.id, step, agent_body(env, step, ctx, thread, None))
    except NeedsHuman as need:
        value = interrupt({**need.payload, "step": step.id})
        return execute(env, run_id, step.id, step, agent_body(env, step, ctx, thread, value))


def run_step(
    env: StepEnv, run_id: str, step: StepBase, ctx: Mapping[str, Any], book: Provenance
) -> dict[str, Any]:
    """The state update of one step; ``book`` is the run's provenance ledger so far."""
    if isinstance(step, ToolStep):
        return _tool(env, run_id, step, ctx, book)
    if isinstance(step, ApprovalStep):
        return _approval(env, run_id, step, ctx)
    seen: list[dict[str, Any]] = []
    if isinstance(step, AgentStep | LlmStep):
        if isinstance(step, AgentStep):
            out = _agent(env, run_id, step, ctx)
        else:
            out = execute(env, run_id, step.id, step, llm_body(env, step, ctx))
        seen.append(derived(book, step.id, out, isinstance(step, AgentStep)))
    elif isinstance(step, MapStep):
        mapped = map_items(env, run_id, step, ctx, book)
        out, seen = mapped.output, mapped.seen
    elif isinstance(step, BranchStep):
        taken = condition(step.branch.condition, ctx, f"step {step.id} branch.if")
        out = {"taken": "then" if taken else "else", "value": taken}
    else:  # pragma: no cover - the schema admits no other kind
        raise UserInputError(f"unknown step kind at {step.id}")
    return {"steps": {step.id: out}, "provenance": seen}


def run_ledger(env: StepEnv, state: RunState) -> Provenance:
    """The run's ledger: the flow file and its variables are the user's words."""
    book = Provenance()
    book.add_user(env.request)
    book.add(Trust.USER, "vars", state.get("vars") or {})
    for p in state.get("provenance") or ():
        book.restore(p)
    return book


def _node(step: StepBase, env: StepEnv) -> Callable[[RunState, RunnableConfig], dict[str, Any]]:
    def node(state: RunState, config: RunnableConfig) -> dict[str, Any]:
        if state.get("halted"):
            return {}
        run_id = str(config["configurable"]["thread_id"]).removeprefix("run:")
        ctx = {"vars": state.get("vars") or {}, "steps": state.get("steps") or {}}
        return run_step(env, run_id, step, ctx, run_ledger(env, state))

    return node


def _router(step_id: str) -> Callable[[RunState], str]:
    def route(state: RunState) -> str:
        return str((state.get("steps") or {}).get(step_id, {}).get("taken", "else"))

    return route


def _chain(g: StateGraph[Any], steps: list[Any], after: str, env: StepEnv) -> str:
    nxt = after
    for step in reversed(steps):
        g.add_node(step.id, _node(step, env))  # type: ignore[call-overload,arg-type]
        if isinstance(step, BranchStep):
            yes = _chain(g, step.branch.then, nxt, env)
            no = _chain(g, step.branch.otherwise, nxt, env)
            g.add_conditional_edges(step.id, _router(step.id), {"then": yes, "else": no})
        else:
            g.add_edge(step.id, nxt)
        nxt = step.id
    return nxt


def compile_flow(flow: Flow, env: StepEnv) -> CompiledStateGraph[Any, Any, Any, Any]:
    """The flow as a LangGraph graph checkpointed by ``env.saver``."""
    g: StateGraph[Any] = StateGraph(RunState)
    g.add_edge(START, _chain(g, list(flow.steps), END, env))
    return g.compile(checkpointer=env.saver)


def _guards(settings: Settings) -> GuardRunner:
    """The configured guard policy (a bad policy raises ConfigError before anything runs)."""
    from autan.guards.policy import runner_from_settings

    return runner_from_settings(settings)


def resolve_vars(flow: Flow, given: Mapping[str, Any] | None) -> dict[str, Any]:
    """The run's variables: defaults overridden by ``given``; unknown or missing ones refused."""
    given = dict(given or {})
    unknown = sorted(set(given) - set(flow.vars))
    if unknown:
        declared = ", ".join(flow.vars) or "none"
        raise UserInputError(f"unknown variable {unknown[0]!r}; the flow declares: {declared}")
    values: dict[str, Any] = {}
    for name, default in flow.vars.items():
        if name in given:
            values[name] = _coerce(given[name], default)
        elif default is None:
            raise UserInputError(f"missing variable {name!r}", hint=f"pass --var {name}=VALUE")
        else:
            values[name] = default
    return values


def _coerce(value: Any, default: Any) -> Any:
    """CLI values are strings; parse them as YAML when the default is not a string."""
    if not isinstance(value, str) or isinstance(default, str):
        return value
    looks_structured = value.strip()[:1] in ("[", "{")
    if default is None and not looks_structured:
        return value
    try:
        return yaml.safe_load(value)
    except yaml.YAMLError:
        raise UserInputError(f"cannot parse variable value {value!r}") from None


def _for_flow(settings: Settings, flow: Flow) -> Settings:
    """``settings`` with the flow's own memory user, if it names one."""
    if not flow.memory_user:
        return settings
    memory = settings.memory.model_copy(update={"user": flow.memory_user})
    return settings.model_copy(update={"memory": memory})


class Workflow:
    """A loaded flow bound to a checkpointer and the run journal; compiled once."""

    def __init__(
        self,
        flow: Flow,
        *,
        source: str = "",
        settings: Settings | None = None,
        checkpointer: BaseCheckpointSaver[Any] | None = None,
        tools: Iterable[BaseTool] = (),
        model: str | None = None,
        guards: GuardRunner | None = None,
    ) -> None:
        self.flow = flow
        self.source = source
        self.settings = _for_flow(settings or load_settings(), flow)
        self._owns_saver = checkpointer is None
        self.saver = checkpointer or open_checkpointer(self.settings)
        self.journal = Journal(Path(self.settings.data_dir) / "runs.sqlite")
        spec = model or flow.model or self.settings.model.spec
        extra = {t.name: t for t in tools}
        self.env = StepEnv(
            self.settings, self.journal, self.saver, spec, extra, guards or _guards(self.settings)
        )
        self.env.request = flow.model_dump_json(by_alias=True)
        self.graph = compile_flow(flow, self.env)

    @classmethod
    def load(cls, path: str | Path, **kwargs: Any) -> Workflow:
        """Load and validate a flow file."""
        source = Path(path)
        flow = load_flow(source)
        if flow.model and flow.model.startswith("scripted:"):  # a script beside the flow file
            beside = source.parent / flow.model.removeprefix("scripted:")
            if beside.is_file():
                flow = flow.model_copy(update={"model": f"scripted:{beside}"})
        return cls(flow, source=str(source.resolve()), **kwargs)

    def config(self, run_id: str) -> RunnableConfig:
        """The graph config of one run."""
        from autan.trace_callbacks import trace_callbacks

        config: RunnableConfig = {
            "configurable": {"thread_id": f"run:{run_id}"},
            "recursion_limit": 10_000,
        }
        if callbacks := trace_callbacks(f"automation {self.flow.name}"):
            config["callbacks"] = callbacks
        return config

    def start(
        self, variables: Mapping[str, Any] | None = None, run_id: str | None = None
    ) -> RunResult:
        """Validate the variables, record the run, then run it to its end or first pause."""
        values = resolve_vars(self.flow, variables)
        run_id = run_id or uuid.uuid4().hex[:12]
        self.journal.create_run(run_id, self.source, self.flow.name, values)
        return self._drive(run_id, {"vars": values, "steps": {}})

    def resume(self, run_id: str, decision: Any = None) -> RunResult:
        """Continue a run after a crash, a failure or a pause (``decision`` answers a pause)."""
        record = self.journal.run(run_id)
        if record.name != self.flow.name:
            raise UserInputError(
                f"run {run_id} belongs to flow {record.name!r}, not {self.flow.name!r}",
                hint=f"resume it with its own file: {record.flow}",
            )
        snap = self.graph.get_state(self.config(run_id))
        inputs: Any = None
        if not snap.values:
            inputs = {"vars": record.vars, "steps": {}}
        elif snap.interrupts:
            if decision is None:
                return self._result(run_id)
            inputs = Command(resume=with_shown(decision, snap.interrupts[0].value))
        elif not snap.next and not snap.tasks:  # finished (pending writes count as unfinished)
            return self._result(run_id)
        self.journal.set_status(run_id, "running")
        return self._drive(run_id, inputs)

    def _drive(self, run_id: str, inputs: Any) -> RunResult:
        try:
            self.graph.invoke(inputs, self.config(run_id))
        except AutanError as exc:
            self.journal.set_status(run_id, "failed", error=exc.one_line())
            raise
        except Exception as exc:
            self.journal.set_status(run_id, "failed", error=f"{type(exc).__name__}: {exc}")
            raise
        return self._result(run_id)

    def _result(self, run_id: str) -> RunResult:
        snap = self.graph.get_state(self.config(run_id))
        values = snap.values or {}
        steps = dict(values.get("steps") or {})
        if snap.interrupts:
            payload = dict(snap.interrupts[0].value)
            self.journal.set_status(run_id, "waiting")
            return RunResult(run_id, "waiting", None, payload, steps)
        if values.get("halted"):
            self.journal.set_status(run_id, "denied", error=str(values["halted"]))
            return RunResult(run_id, "denied", None, None, steps)
        ctx = {"vars": values.get("vars") or {}, "steps": steps}
        outputs = render_value(self.flow.outputs, ctx, "outputs") if self.flow.outputs else steps
        self.journal.set_status(run_id, "done", outputs=outputs)
        return RunResult(run_id, "done", outputs, None, steps)

    def close(self) -> None:
        """Release the journal (and the checkpointer, if this workflow opened it)."""
        self.journal.close()
        if self._owns_saver:
            close_checkpointer(self.saver)
