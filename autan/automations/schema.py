"""The YAML automation format: pydantic models, and loading with errors that name file and line.

A flow is ``name``, ``vars`` (a null default means required), ``steps`` and ``outputs``. Each
step has an ``id`` and exactly one kind key: ``tool``, ``llm``, ``branch``, ``map``,
``approval`` or ``agent``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal, cast

import yaml
from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, ValidationError

from autan.errors import NotFoundError, UserInputError

KINDS = ("tool", "llm", "branch", "map", "approval", "agent")
StepKind = Literal["tool", "llm", "branch", "map", "approval", "agent"]
StepId = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=64)]


class Retry(BaseModel):
    """How often a failing step is tried, and how long to wait between tries."""

    model_config = ConfigDict(extra="forbid")

    attempts: int = Field(1, ge=1, le=20)
    backoff_s: float = Field(0.0, ge=0.0, le=600.0)


class StepBase(BaseModel):
    """What every step has: its id (the name its output is known by), retry and timeout."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    id: StepId
    retry: Retry = Field(default_factory=lambda: Retry.model_validate({}))
    timeout_s: float | None = Field(None, gt=0)
    continue_on_error: bool = False

    @property
    def kind(self) -> StepKind:
        """The step's kind key."""
        return cast(StepKind, next(k for k in KINDS if k in type(self).model_fields))


class ToolStep(StepBase):
    """Call one tool with templated arguments; its result is the step's output."""

    tool: str
    args: dict[str, Any] = Field(default_factory=dict)


class LlmStep(StepBase):
    """Ask the model; the output is its text, or JSON validated against ``schema``."""

    llm: str
    system: str | None = None
    json_schema: dict[str, Any] | None = Field(None, alias="schema")
    model: str | None = None


class AgentStep(StepBase):
    """Hand a sub-goal to the full agent graph; the output is its answer and sources."""

    agent: str
    tools: list[str] | None = None
    model: str | None = None


class ApprovalStep(StepBase):
    """Pause until a human approves; a denial stops the run."""

    approval: str


class Branch(BaseModel):
    """``if`` a condition holds run ``then``, otherwise ``else``."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    condition: str = Field(alias="if")
    then: list[Step] = Field(default_factory=list)
    otherwise: list[Step] = Field(default_factory=list, alias="else")


class BranchStep(StepBase):
    """Choose between two lists of steps."""

    branch: Branch


InnerStep = Annotated[
    Annotated[ToolStep, Tag("tool")]
    | Annotated[LlmStep, Tag("llm")]
    | Annotated[AgentStep, Tag("agent")],
    Discriminator(
        lambda v: _kind_of(v, ("tool", "llm", "agent")),
        custom_error_type="step_kind",
        custom_error_message="a map step runs exactly one of: tool, llm, agent",
    ),
]


class MapSpec(BaseModel):
    """Run ``step`` once per item of ``over`` with at most ``concurrency`` at a time."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    over: str
    item: str = Field("item", alias="as", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    concurrency: int = Field(4, ge=1, le=32)
    step: InnerStep


class MapStep(StepBase):
    """Apply one step to every item of a list."""

    map: MapSpec


def _kind_of(value: Any, kinds: Sequence[str] = KINDS) -> str | None:
    if isinstance(value, dict):
        found = [k for k in kinds if k in value]
        return found[0] if len(found) == 1 else None
    return next((k for k in kinds if k in type(value).model_fields), None)


Step = Annotated[
    Annotated[ToolStep, Tag("tool")]
    | Annotated[LlmStep, Tag("llm")]
    | Annotated[BranchStep, Tag("branch")]
    | Annotated[MapStep, Tag("map")]
    | Annotated[ApprovalStep, Tag("approval")]
    | Annotated[AgentStep, Tag("agent")],
    Discriminator(
        _kind_of,
        custom_error_type="step_kind",
        custom_error_message="a step needs exactly one of: " + ", ".join(KINDS),
    ),
]


class Flow(BaseModel):
    """A whole automation."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    description: str = ""
    model: str | None = None
    # Whose long-term memory remember/recall use (default: the setting memory.user), so an
    # example or a test flow keeps its facts apart from the user's own.
    memory_user: str | None = Field(None, pattern=r"^[A-Za-z0-9_-]{1,64}$")
    vars: dict[str, Any] = Field(default_factory=dict)
    steps: list[Step] = Field(min_length=1)
    outputs: dict[str, Any] = Field(default_factory=dict)

    def walk(self) -> Iterator[tuple[tuple[Any, ...], StepBase]]:
        """Every step, nested ones included, with its path in the YAML document."""
        yield from _walk(self.steps, ("steps",))


def _walk(
    steps: Sequence[StepBase], path: tuple[Any, ...]
) -> Iterator[tuple[tuple[Any, ...], StepBase]]:
    for i, step in enumerate(steps):
        here = (*path, i)
        yield here, step
        if isinstance(step, BranchStep):
            yield from _walk(step.branch.then, (*here, "branch", "then"))
            yield from _walk(step.branch.otherwise, (*here, "branch", "else"))
        elif isinstance(step, MapStep):
            yield (*here, "map", "step"), step.map.step


Branch.model_rebuild()


class Located:
    """YAML data with the line of every key and item, for error messages."""

    def __init__(self, text: str, origin: str) -> None:
        self.origin = origin
        try:
            node = yaml.compose(text)
            self.data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = f":{mark.line + 1}" if mark is not None else ""
            problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
            raise UserInputError(
                f"{origin}{line}: not valid YAML: {problem}",
                hint="fix the flow's YAML (see docs/automations.md)",
            ) from None
        self.lines: dict[tuple[Any, ...], int] = {}
        if node is not None:
            self._index(node, ())

    def _index(self, node: yaml.Node, path: tuple[Any, ...]) -> None:
        self.lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                self.lines[(*path, key.value)] = key.start_mark.line + 1
                self._index(value, (*path, key.value))
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                self._index(item, (*path, i))

    def real_path(self, loc: Sequence[Any]) -> tuple[Any, ...]:
        """A pydantic error location with union tags removed: keys that exist in the data."""
        path: list[Any] = []
        cur: Any = self.data
        for i, part in enumerate(loc):
            tag = part in KINDS and i + 1 < len(loc) and isinstance(cur, dict)
            if tag and loc[i + 1] in cur:
                continue
            if isinstance(cur, dict) and part in cur:
                cur = cur[part]
            elif isinstance(cur, list) and isinstance(part, int) and part < len(cur):
                cur = cur[part]
            elif part in KINDS:
                continue
            else:
                path.append(part)
                break
            path.append(part)
        return tuple(path)

    def where(self, path: Sequence[Any]) -> str:
        """``file:line: field`` for a path into the document."""
        parts = tuple(path)
        while parts and parts not in self.lines:
            parts = parts[:-1]
        line = self.lines.get(parts, 1)
        field = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")
        return f"{self.origin}:{line}: {field or 'flow'}"

    def error(self, path: Sequence[Any], message: str) -> UserInputError:
        """A one-line error naming file, line and field."""
        return UserInputError(f"{self.where(path)}: {message}")


def _message(doc: Located, err: Any) -> str:
    if err["type"] == "step_kind":
        value = err.get("input")
        keys = ", ".join(str(k) for k in value) if isinstance(value, dict) else repr(value)
        return f"{err['msg']} (found keys: {keys})"
    return str(err["msg"])


def parse_flow(text: str, origin: str = "<flow>") -> Flow:
    """Validate a flow document; every error names file, line and field."""
    doc = Located(text, origin)
    if not isinstance(doc.data, dict):
        raise doc.error((), "a flow must be a mapping with name and steps")
    try:
        flow = Flow.model_validate(doc.data)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise doc.error(doc.real_path(err["loc"]), _message(doc, err)) from None
    seen: dict[str, tuple[Any, ...]] = {}
    for path, step in flow.walk():
        if step.id in seen or step.id in ("vars", "steps"):
            raise doc.error((*path, "id"), f"duplicate step id {step.id!r}")
        seen[step.id] = path
    _check_templates(doc)
    return flow


def _check_templates(doc: Located) -> None:
    from autan.automations.template import check_syntax

    def visit(value: Any, path: tuple[Any, ...]) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                visit(v, (*path, k))
        elif isinstance(value, list):
            for i, v in enumerate(value):
                visit(v, (*path, i))
        elif isinstance(value, str):
            problem = check_syntax(value)
            if problem:
                raise doc.error(path, f"bad template: {problem}")

    visit(doc.data, ())


def load_flow(path: Path) -> Flow:
    """Read and validate a flow file."""
    if not path.is_file():
        raise NotFoundError(f"flow file not found: {path}", hint="check the path")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise UserInputError(f"{path} is not UTF-8 text", hint="give a YAML flow file") from None
    return parse_flow(text, str(path))
