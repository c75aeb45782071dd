"""Each agent owns its sandbox sessions and memory store; closing it releases them."""

from __future__ import annotations

import ast
from pathlib import Path

from langchain_core.messages import AIMessage, HumanMessage

from autan.agents.models.scripted import ScriptedChatModel
from autan.agents.planner import TokenCounter, approx_tokens
from autan.api import Agent
from autan.config import load_settings
from autan.tools.registry import ToolRegistry
from autan.tools.resources import ToolResources

ROOT = Path(__file__).resolve().parents[2]
# A process-wide cache kept on purpose (bounded, documented in docs/architecture.md).
ALLOWED = {
    ("agents/models/local_loading.py", "_CACHE"),
    ("agents/models/tiny.py", "_BUILT"),
    ("agents/eval_pool.py", "_WORKER"),  # set once per spawned eval worker process, never shared
}


def _held(agent: Agent) -> ToolResources:
    assert isinstance(agent.context.tools, ToolRegistry) and agent.context.tools.resources
    return agent.context.tools.resources


def _sandboxed(workspace: Path, **sandbox: object) -> Agent:
    fields = {"timeout_s": 10.0, "workspace": workspace, **sandbox}
    settings = load_settings(workspace=workspace, sandbox=fields)
    model = ScriptedChatModel.from_turns([{"text": "ok"}])
    return Agent(model, settings=settings, tools=["python", "run_command"])


def test_two_agents_never_share_sandbox_sessions_and_close_releases_them(
    tmp_path: Path,
) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "who.txt").write_text("b")  # copied into b's sessions, never a's
    first, second = _sandboxed(tmp_path / "a"), _sandboxed(tmp_path / "b", timeout_s=7.0)
    run_a, run_b = first.context.tools.get("python"), second.context.tools.get("python")
    run_a.invoke({"code": "x = 1"})
    seen = run_b.invoke({"code": "print('x' in globals())"})
    listed = second.context.tools.get("run_command").invoke({"command": "cat who.txt"})
    assert seen["stdout"] == "False\n" and listed["stdout"] == "b"
    pool_a = _held(first).sandbox()
    pool_b = _held(second).sandbox()
    assert pool_a is not pool_b and pool_a.names() == ["default"]
    assert (pool_a.workspace, pool_b.workspace) == (tmp_path / "a", tmp_path / "b")
    assert pool_b.executor.settings.timeout_s == 7.0 != pool_a.executor.settings.timeout_s
    session = pool_a.get("default")
    first.close()
    assert pool_a.names() == [] and session._proc is None  # the worker was stopped
    assert pool_b.names() == ["default"]  # the other agent's session is untouched
    assert "NameError" in repr(run_a.invoke({"code": "print(x)"}))  # a fresh session
    first.close()
    second.close()
    assert pool_b.names() == []


def test_two_agents_with_different_memory_users_never_share_a_store(tmp_path: Path) -> None:
    def agent(user: str) -> Agent:
        settings = load_settings(
            workspace=tmp_path, memory={"user": user}, retrieval={"embedder": "hashing"}
        )
        script = ScriptedChatModel.from_turns([{"text": "ok"}])
        return Agent(script, settings=settings, tools=["remember", "recall"])

    ann = agent("ann")
    ann.context.tools.get("remember").invoke({"text": "Ann's cat is named Miso"})
    ann_store = _held(ann)
    assert ann_store.memory_open
    ann.close()
    assert not ann_store.memory_open
    with agent("bob") as bob:
        found = bob.context.tools.get("recall").invoke({"query": "cat"})
        bob_store = _held(bob)
        assert bob_store is not ann_store and found["memories"] == []
    assert not bob_store.memory_open
    with agent("ann") as again:
        found = again.context.tools.get("recall").invoke({"query": "cat"})
        assert [m["text"] for m in found["memories"]] == ["Ann's cat is named Miso"]


def test_token_counts_are_cached_by_content_and_bounded() -> None:
    small = {"name": "calculator", "args": {"expression": "1"}, "id": "c"}
    big = {"name": "calculator", "args": {"expression": "9" * 400}, "id": "c"}
    counter = TokenCounter(limit=3)
    first = AIMessage(content="", tool_calls=[small], id="m")
    assert counter([first]) == approx_tokens([first])
    again = AIMessage(content="", tool_calls=[{**small, "id": "d"}], id="other")
    assert counter([again]) == approx_tokens([first]) and len(counter.cache) == 1  # a hit
    other_args = AIMessage(content="", tool_calls=[big], id="m")  # same id, other arguments
    assert counter([other_args]) == approx_tokens([other_args]) > approx_tokens([first])
    for i in range(10):  # every run's question under a new message id
        counter([HumanMessage("what time is it?", id=f"run-{i}")])
    assert len(counter.cache) == 3
    counter([HumanMessage("something new", id="n")])
    assert len(counter.cache) <= 3


def test_planner_modules_hold_no_module_level_mutable_state() -> None:
    found: list[tuple[str, str]] = []
    for folder in ("agents", "tools", "graphs", "autan/automations", "memory"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            for node in ast.parse(path.read_text()).body:
                target, value = _assignment(node)
                if target and _empty_container(value):
                    found.append((str(path.relative_to(ROOT)), target))
    assert [f for f in found if f not in ALLOWED] == []


def _assignment(node: ast.stmt) -> tuple[str | None, ast.expr | None]:
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return node.target.id, node.value
    if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
        return node.targets[0].id, node.value
    return None, None


def _empty_container(value: ast.expr | None) -> bool:
    """``{}``, ``[]``, ``dict()``, ``OrderedDict()``...: a registry filled at run time."""
    if isinstance(value, ast.Dict | ast.List | ast.Set):
        return not getattr(value, "keys", getattr(value, "elts", None))
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Name):
        return value.func.id in {"dict", "list", "set", "OrderedDict", "defaultdict"} and not (
            value.args
        )
    return False


def test_auto_recall_shares_the_store_of_the_agents_memory_tools(tmp_path: Path) -> None:
    from autan.api import default_recall

    settings = load_settings(workspace=tmp_path, retrieval={"embedder": "hashing"})
    with ToolRegistry.configured(settings, ["remember"]) as earlier:
        earlier.run("remember", {"text": "The user's cat is named Miso"})
    with ToolRegistry.configured(settings, ["recall"]) as registry:
        assert registry.resources is not None and not registry.resources.memory_open
        hook = default_recall(settings, registry.resources)
        assert hook is not None
        assert "The user's cat is named Miso" in hook("what is my cat called?")
        assert registry.resources.memory_open  # the hook opened the registry's store
    assert not registry.resources.memory_open
