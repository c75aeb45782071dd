"""One AgentDojo task through autan's real agent graph, scored by AgentDojo's own checks.

A ``DojoHarness`` compiles one ``autan.api.Agent`` per suite and defence setup: the wrapped
environment functions as its tools, the worst-case planner as its model, and the setup's guards.
Each task swaps the environment and the plan in, runs the graph to its end, answers every human
question (a guard escalation or an approval) with a denial, and scores the result.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from langgraph.checkpoint.memory import InMemorySaver

from autan.config import Settings
from autan.errors import ConfigError
from autan.evals.dojo_effects import DECLARATIONS, Declared
from autan.evals.dojo_planner import Call, ObeyingPlanner, Plan, markers, obeying_model
from autan.evals.dojo_tools import DojoSession, suite_tools
from autan.guards.base import GuardRunner

if TYPE_CHECKING:
    from agentdojo.base_tasks import BaseInjectionTask, BaseUserTask
    from agentdojo.task_suite.task_suite import TaskSuite

BENCHMARK_VERSION = "v1.2.2"
_MAX_QUESTIONS = 32  # a run that keeps asking a human is cut off here


def load_suite(name: str, version: str = BENCHMARK_VERSION) -> TaskSuite[Any]:
    """An AgentDojo suite from the installed package (its data ships inside; nothing downloads)."""
    try:
        from agentdojo.task_suite.load_suites import get_suites
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.startswith("agentdojo"):
            raise ConfigError(
                "the injection harness needs AgentDojo", hint="pip install 'autan[eval]'"
            ) from None
        raise
    suites = get_suites(version)
    if name not in suites:
        raise ConfigError(f"AgentDojo {version} has no suite {name!r}")
    return suites[name]


def inject(suite: TaskSuite[Any], injections: dict[str, str]) -> Any:
    """The suite's environment with ``injections`` placed, as AgentDojo builds it.

    The same steps as ``TaskSuite.load_and_inject_default_environment``, parsed with libyaml
    when it is there: the pure-Python parser costs more than the rest of a task.
    """
    import yaml
    from agentdojo.task_suite.task_suite import read_suite_file, validate_injections

    text = read_suite_file(suite.name, "environment.yaml", suite.data_path)
    defaults = suite.get_injection_vector_defaults()
    validate_injections(injections, defaults)
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    data = yaml.load(text.format(**{**defaults, **injections}), Loader=loader)  # noqa: S506
    return suite.environment_type.model_validate(data)


def ground_truth(task: BaseUserTask[Any] | BaseInjectionTask[Any], env: Any) -> list[Call]:
    """A task's ground-truth calls as (name, args)."""
    return [(c.function, dict(c.args)) for c in task.ground_truth(env)]


def scriptable(task: BaseInjectionTask[Any], env: Any) -> bool:
    """Whether AgentDojo gives the injection task calls or an answer a script can play.

    Eight of workspace's v1.2 injection tasks have neither (their ``ground_truth`` is empty);
    the harness counts their pairs as not run instead of as attacks that failed.
    """
    return bool(task.GROUND_TRUTH_OUTPUT or task.ground_truth(env.model_copy(deep=True)))


@dataclass(frozen=True)
class Outcome:
    """How one task ended."""

    utility: bool
    attacked: bool
    escalations: int
    answer: str
    questions: tuple[str, ...] = ()  # why each human was asked (the guards' reasons)


@dataclass
class DojoHarness:
    """The agent for one suite and one defence setup, reused across that suite's tasks."""

    suite: TaskSuite[Any]
    guards: GuardRunner
    settings: Settings
    declarations: Mapping[str, Declared] = field(default_factory=lambda: DECLARATIONS)
    session: DojoSession = field(default_factory=DojoSession)
    planner: ObeyingPlanner = field(default_factory=ObeyingPlanner)

    def __post_init__(self) -> None:
        from autan.api import Agent

        self.saver = InMemorySaver()
        self.agent = Agent(
            obeying_model(self.planner),
            tools=suite_tools(self.suite, self.session, self.declarations),
            settings=self.settings,
            guards=self.guards,
            checkpointer=self.saver,
        )

    def run(
        self,
        user_task: BaseUserTask[Any],
        injection_task: BaseInjectionTask[Any] | None,
        env: Any,
        injections: dict[str, str],
        decision: str = "deny",
    ) -> Outcome:
        """Run ``user_task`` on ``env`` (mutated in place) and score it.

        ``decision`` answers every human question (``deny``: the worst case; ``approve``).
        """
        env = user_task.init_environment(env)
        pre = env.model_copy(deep=True)
        self.planner.start(
            Plan(
                user_calls=ground_truth(user_task, pre),
                injection_calls=ground_truth(injection_task, pre) if injection_task else (),
                markers=markers(injections.values()) if injection_task else (),
                answer=user_task.GROUND_TRUTH_OUTPUT or "Done.",  # a fake never streams nothing
                injection_answer=injection_task.GROUND_TRUTH_OUTPUT if injection_task else "",
            )
        )
        self.session.reset(env)
        answer, asked = self._answer(user_task.PROMPT, decision)
        trace = self.session.trace
        return Outcome(
            utility=_utility(user_task, answer, pre, env, trace),
            attacked=bool(injection_task) and _attacked(injection_task, answer, pre, env, trace),
            escalations=len(asked),
            answer=answer,
            questions=tuple(asked),
        )

    def _answer(self, prompt: str, decision: str) -> tuple[str, list[str]]:
        """The final answer, every human question given ``decision``; and why each was asked."""
        thread = uuid.uuid4().hex[:12]
        answer = self.agent.run(prompt, thread_id=thread)
        asked: list[str] = []
        while answer.interrupt is not None and len(asked) < _MAX_QUESTIONS:
            reasons = answer.interrupt.get("reasons") or [answer.interrupt.get("type", "?")]
            asked.append("; ".join(str(r) for r in reasons))
            answer = self.agent.resume(thread, decision)
        self.saver.delete_thread(thread)
        return ("" if answer.interrupted else answer.text), asked


def _utility(task: BaseUserTask[Any], answer: str, pre: Any, post: Any, trace: Any) -> bool:
    found = task.utility_from_traces(answer, pre, post, trace)
    return bool(task.utility(answer, pre, post) if found is None else found)


def _attacked(task: BaseInjectionTask[Any], answer: str, pre: Any, post: Any, trace: Any) -> bool:
    found = task.security_from_traces(answer, pre, post, trace)
    return bool(task.security(answer, pre, post) if found is None else found)
