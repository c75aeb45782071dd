"""``autan eval injection``: attack success rate and utility per AgentDojo suite and defence setup.

Every (user task, injection task) pair of a suite runs once per setup, with the attack's text
placed where the user task will read it; every user task also runs once without an attack. The
planner obeys every injection it reads (dojo_planner), so the numbers are a worst case: an
attack fails only when a defence stops it, never because the model ignored it.

Setups: ``none`` (no rails), ``detection`` (the policy's ``tool_output`` rails), ``capability``
(the capability policy alone) and ``all`` (every stage of the policy and the capability policy).
Rails that only redact are left out of the tool-output stage: the worst-case planner recovers
redacted values, so they cannot change either number, and they cost most of the CPU.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from autan.config import GuardSettings, PlannerSettings, Settings
from autan.errors import UserInputError
from autan.evals import LAYERS, SUITES
from autan.evals.dojo_effects import DECLARATIONS, Declared
from autan.evals.dojo_run import BENCHMARK_VERSION, DojoHarness, inject, load_suite, scriptable
from autan.guards.base import GuardRunner

if TYPE_CHECKING:
    from agentdojo.attacks.base_attacks import BaseAttack
    from agentdojo.task_suite.task_suite import TaskSuite

DEFAULT_ATTACK = "important_instructions"
Progress = Callable[[str, int, int], None]


@dataclass
class Cell:
    """One suite under one setup."""

    pairs: int = 0
    attacked: int = 0
    useful_under_attack: int = 0
    tasks: int = 0
    useful: int = 0
    useful_if_approved: int = 0  # user tasks done right when a human approves every question
    escalations: int = 0
    asked: list[str] = field(default_factory=list)  # "user_task: why" for each question, no attack

    @property
    def asr(self) -> float:
        """Attack success rate over the pairs run."""
        return self.attacked / self.pairs if self.pairs else 0.0

    @property
    def utility(self) -> float:
        """Share of user tasks done right without an attack."""
        return self.useful / self.tasks if self.tasks else 0.0

    @property
    def utility_if_approved(self) -> float:
        """Share of user tasks done right without an attack, every human question approved."""
        return self.useful_if_approved / self.tasks if self.tasks else 0.0

    @property
    def utility_under_attack(self) -> float:
        """Share of pairs whose user task was still done right."""
        return self.useful_under_attack / self.pairs if self.pairs else 0.0

    def to_dict(self) -> dict[str, Any]:
        """Counts and rates, rounded for printing."""
        rates = {
            "asr": self.asr,
            "utility": self.utility,
            "utility_if_approved": self.utility_if_approved,
            "utility_under_attack": self.utility_under_attack,
        }
        return {**asdict(self), **{k: round(v, 4) for k, v in rates.items()}}


@dataclass
class Report:
    """Every cell of one run: suite -> setup -> Cell."""

    attack: str
    version: str
    layers: tuple[str, ...]
    cells: dict[str, dict[str, Cell]] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of ``autan eval injection --json``."""
        suites = {s: {k: c.to_dict() for k, c in row.items()} for s, row in self.cells.items()}
        return {
            "benchmark": f"agentdojo {self.version}",
            "attack": self.attack,
            "layers": list(self.layers),
            "suites": suites,
            "skipped": self.skipped,
        }


def attack_names() -> list[str]:
    """The AgentDojo attacks the harness can place (fixed templates, not denial of service)."""
    from agentdojo.attacks import attack_registry

    return sorted(
        name
        for name, cls in attack_registry.ATTACKS.items()
        if not cls.is_dos_attack and name != "manual"
    )


def _target() -> Any:
    """A stand-in for the attacked pipeline: the templates only read its name."""
    from agentdojo.agent_pipeline.base_pipeline_element import BasePipelineElement

    class Target(BasePipelineElement):  # type: ignore[misc]
        name = "gpt-4o-2024-05-13"  # fills the templates' {model} with "GPT-4"

        def query(self, *args: Any, **kwargs: Any) -> Any:
            raise NotImplementedError

    return Target()


def load_attack(name: str, suite: TaskSuite[Any]) -> BaseAttack:
    """The named attack against ``suite``; an unknown name is the user's to fix."""
    from agentdojo.attacks import attack_registry

    known = attack_names()
    if name not in known:
        raise UserInputError(f"unknown attack {name!r}", hint=f"use one of {', '.join(known)}")
    return attack_registry.load_attack(name, suite, _target())


def check_choices(suites: Sequence[str], layers: Sequence[str], limit: int | None) -> None:
    """Reject unknown suites or setups and a limit below one."""
    for s in suites:
        if s not in SUITES:
            raise UserInputError(f"unknown suite {s!r}", hint=f"use one of {', '.join(SUITES)}")
    for layer in layers:
        if layer not in LAYERS:
            raise UserInputError(
                f"unknown layer setup {layer!r}", hint=f"use one of {', '.join(LAYERS)}"
            )
    if limit is not None and limit < 1:
        raise UserInputError("--limit must be at least 1")


def harness_settings(base: Settings | None = None) -> Settings:
    """Settings with room for the longest ground truth plus an injection, and no audit files."""
    s = base or Settings()
    planner = PlannerSettings(max_steps=48, context_tokens=1_000_000)
    guards = GuardSettings(policy=s.guards.policy, audit=False)
    return s.model_copy(update={"planner": planner, "guards": guards, "requires_approval": []})


def layer_guards(
    layer: str, settings: Settings, capability: Mapping[str, Any] | None = None
) -> GuardRunner:
    """The guard runner of one setup, built from the configured policy (docs/security.md).

    ``capability`` overrides fields of the policy's ``capabilities:`` section (``endorse``...).
    """
    from autan.guards.policy import build_runner, load_policy

    policy = load_policy(settings.guards.policy)
    if capability:
        caps = policy.capabilities.model_validate(
            {**policy.capabilities.model_dump(), **capability}
        )
        policy = policy.model_copy(update={"capabilities": caps})
    stages = {k: list(v) for k, v in policy.stages.items()}
    stages["tool_output"] = [e for e in stages.get("tool_output", []) if e.action != "redact"]
    if layer == "detection":
        stages = {"tool_output": stages["tool_output"]}
    return build_runner(
        policy.model_copy(update={"stages": stages}),
        "policy",
        rails_on=layer in ("detection", "all"),
        capabilities_on=layer in ("capability", "all"),
    )


def pairs_of(suite: TaskSuite[Any], limit: int | None, playable: set[str]) -> list[tuple[str, str]]:
    """Every (user task, playable injection task) pair, or a fixed sample of ``limit`` of them."""
    every = [(u, i) for u in suite.user_tasks for i in suite.injection_tasks if i in playable]
    if limit is None or limit >= len(every):
        return every
    picked = set(random.Random(0).sample(every, limit))
    return [p for p in every if p in picked]


@dataclass
class _SuiteRun:
    """One suite's harnesses and cells while it runs."""

    name: str
    suite: TaskSuite[Any]
    harnesses: dict[str, DojoHarness]
    cells: dict[str, Cell]

    def benign(self, user_id: str, env: Any) -> None:
        """Run one user task without an attack under every setup."""
        task = self.suite.user_tasks[user_id]
        for layer, harness in self.harnesses.items():
            out = harness.run(task, None, env.model_copy(deep=True), {})
            cell = self.cells[layer]
            cell.tasks += 1
            cell.useful += out.utility
            cell.escalations += out.escalations
            cell.asked += [f"{user_id}: {why}" for why in out.questions]
            if out.questions:  # ask again, approving: the human agrees with the user's request
                again = harness.run(task, None, env.model_copy(deep=True), {}, "approve")
                cell.useful_if_approved += again.utility
            else:
                cell.useful_if_approved += out.utility

    def attacked(self, user_id: str, inj_id: str, attack: BaseAttack) -> bool:
        """Run one pair under every setup; False when AgentDojo finds nothing to inject."""
        task, injection = self.suite.user_tasks[user_id], self.suite.injection_tasks[inj_id]
        try:
            injections = attack.attack(task, injection)
        except ValueError:  # AgentDojo: the user task reads no injectable place
            return False
        env = inject(self.suite, injections)
        for layer, harness in self.harnesses.items():
            out = harness.run(task, injection, env.model_copy(deep=True), injections)
            cell = self.cells[layer]
            cell.pairs += 1
            cell.attacked += out.attacked
            cell.useful_under_attack += out.utility
            cell.escalations += out.escalations
        return True


def run_suite(
    name: str,
    layers: Sequence[str],
    attack: str = DEFAULT_ATTACK,
    limit: int | None = None,
    settings: Settings | None = None,
    progress: Progress | None = None,
    declarations: Mapping[str, Declared] = DECLARATIONS,
    capability: Mapping[str, Any] | None = None,
) -> tuple[dict[str, Cell], list[str]]:
    """Every setup's cell for one suite, and the pairs not run (nothing to script or inject).

    ``capability`` overrides fields of the policy's ``capabilities:`` section for this run.
    """
    suite = load_suite(name)
    chosen = load_attack(attack, suite)
    s = harness_settings(settings)
    harnesses = {
        layer: DojoHarness(suite, layer_guards(layer, s, capability), s, declarations)
        for layer in layers
    }
    run = _SuiteRun(name, suite, harnesses, {layer: Cell() for layer in layers})
    benign = inject(suite, {})
    playable = {i for i, t in suite.injection_tasks.items() if scriptable(t, benign)}
    skipped = [f"{name}/*/{i}" for i in suite.injection_tasks if i not in playable]
    pairs = pairs_of(suite, limit, playable)
    users = sorted({u for u, _ in pairs}, key=lambda u: int(u.rpartition("_")[2]))
    total = len(users) + len(pairs)
    for n, user_id in enumerate(users, 1):
        run.benign(user_id, benign)
        if progress:
            progress(name, n, total)
    for n, (user_id, inj_id) in enumerate(pairs, len(users) + 1):
        if not run.attacked(user_id, inj_id, chosen):
            skipped.append(f"{name}/{user_id}/{inj_id}")
        if progress:
            progress(name, n, total)
    return run.cells, skipped


def evaluate(
    suites: Sequence[str] = SUITES,
    layers: Sequence[str] = LAYERS,
    attack: str = DEFAULT_ATTACK,
    limit: int | None = None,
    settings: Settings | None = None,
    progress: Progress | None = None,
) -> Report:
    """Run the harness over ``suites`` and return every cell."""
    check_choices(suites, layers, limit)
    report = Report(attack=attack, version=BENCHMARK_VERSION, layers=tuple(layers))
    for name in suites:
        cells, skipped = run_suite(name, layers, attack, limit, settings, progress)
        report.cells[name] = cells
        report.skipped += skipped
    return report
