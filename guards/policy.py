"""Guard policy: a YAML file naming the rails of each stage with their action and threshold.

``runner_from_settings`` is what ``autan.api.default_guards`` calls. A bad policy raises
``ConfigError`` naming the file, the line and the field.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from autan.config import Settings
from autan.errors import ConfigError
from autan.guards.audit import AuditLog
from autan.guards.base import Action, GuardRunner, Rail, RailSpec, Stage
from autan.guards.capabilities import CapabilityPolicy

DEFAULT_POLICY = Path(__file__).with_name("default_policy.yaml")
RailName = Literal["injection", "pii", "secrets", "toxicity", "code_safety", "grounding", "limits"]


class RailEntry(BaseModel):
    """One rail at one stage."""

    model_config = ConfigDict(extra="forbid")
    rail: RailName
    action: Action = "block"
    threshold: float = Field(0.5, ge=0.0, le=1.0)
    options: dict[str, Any] = Field(default_factory=dict)


class Policy(BaseModel):
    """The whole file."""

    model_config = ConfigDict(extra="forbid")
    version: Literal[1] = 1
    stages: dict[Stage, list[RailEntry]] = Field(default_factory=dict)
    capabilities: CapabilityPolicy = Field(default_factory=CapabilityPolicy)


def _build(entry: RailEntry) -> Rail:
    from autan.guards import code_safety, grounding, injection, limits, pii, secrets, toxicity

    spec = RailSpec(entry.action, entry.threshold)
    opts = dict(entry.options)
    factories: dict[str, Callable[..., Rail]] = {
        "injection": injection.InjectionRail,
        "pii": pii.PIIRail,
        "secrets": secrets.SecretsRail,
        "toxicity": toxicity.ToxicityRail,
        "code_safety": code_safety.CodeSafetyRail,
        "grounding": grounding.GroundingRail,
        "limits": limits.LimitsRail,
    }
    if entry.rail == "injection" and "model" in opts:
        opts["model_spec"] = str(opts.pop("model"))
    if entry.rail == "pii" and "entities" in opts:
        opts["entities"] = tuple(opts["entities"])
    return factories[entry.rail](spec=spec, **opts)


def _lines(node: yaml.Node, path: tuple[Any, ...] = ()) -> dict[tuple[Any, ...], int]:
    """Every path in the YAML document mapped to its 1-based line."""
    found = {path: node.start_mark.line + 1}
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            found[(*path, key.value)] = key.start_mark.line + 1
            found.update(_lines(value, (*path, key.value)))
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            found.update(_lines(item, (*path, i)))
    return found


def _line_of(lines: Mapping[tuple[Any, ...], int], loc: tuple[Any, ...]) -> int:
    for cut in range(len(loc), -1, -1):
        if tuple(loc[:cut]) in lines:
            return lines[tuple(loc[:cut])]
    return 1


def parse_policy(text: str, source: str = "<policy>") -> Policy:
    """Validate policy YAML; errors name ``source``, the line and the field."""
    try:
        node = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        raise ConfigError(
            f"{source}:{line}: not valid YAML ({getattr(exc, 'problem', exc)})",
            hint="fix the policy's YAML (see docs/guards.md)",
        ) from None
    lines = _lines(node) if node is not None else {}
    try:
        return Policy.model_validate(data or {})
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or "policy"
        line = _line_of(lines, tuple(err["loc"]))
        raise ConfigError(
            f"{source}:{line}: invalid policy field {field}: {err['msg']}",
            hint="see 'autan guard policy --show' for the format",
        ) from None


def build_runner(
    policy: Policy,
    source: str = "<policy>",
    audit: AuditLog | None = None,
    *,
    rails_on: bool = True,
    capabilities_on: bool = True,
) -> GuardRunner:
    """Instantiate the rails of every stage (options are checked here) and the capability policy.

    ``rails_on`` / ``capabilities_on`` switch a layer off whatever the file says.
    """
    rails: dict[Stage, list[Rail]] = {}
    caps = policy.capabilities if capabilities_on and policy.capabilities.enabled else None
    for stage, entries in policy.stages.items() if rails_on else ():
        for i, entry in enumerate(entries):
            try:
                rails.setdefault(stage, []).append(_build(entry))
            except TypeError as exc:
                raise ConfigError(
                    f"{source}: stages.{stage}.{i}.options: {exc}".replace("__init__() ", ""),
                    hint="see docs/guards.md for each rail's options",
                ) from None
    return GuardRunner(rails, [audit] if audit else [], caps)


def policy_text(path: Path | None) -> tuple[str, str]:
    """The policy's YAML and where it came from (the shipped default when ``path`` is None)."""
    target = path or DEFAULT_POLICY
    try:
        return target.read_text(encoding="utf-8"), str(target)
    except OSError as exc:
        raise ConfigError(
            f"cannot read guard policy {target}: {exc.strerror}",
            hint="check --policy or guards.policy (a YAML file)",
        ) from None
    except UnicodeDecodeError:
        raise ConfigError(
            f"guard policy {target} is not UTF-8 text", hint="give a YAML policy file"
        ) from None


@functools.lru_cache(maxsize=8)
def _parsed(text: str, source: str) -> Policy:
    return parse_policy(text, source)


def load_policy(path: Path | None = None) -> Policy:
    """Parse the policy at ``path`` (or the default), cached by content."""
    text, source = policy_text(path)
    return _parsed(text, source)


def runner_from_settings(settings: Settings) -> GuardRunner:
    """The GuardRunner of the configured policy, auditing to ``<data_dir>/audit`` if enabled."""
    path = settings.guards.policy
    text, source = policy_text(path)
    audit = AuditLog(settings.data_dir / "audit") if settings.guards.audit else None
    return build_runner(
        _parsed(text, source),
        source,
        audit,
        rails_on=settings.guards.rails,
        capabilities_on=settings.guards.capabilities,
    )
