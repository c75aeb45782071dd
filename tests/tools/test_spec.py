import pytest
from langchain_core.tools import BaseTool

from autan.config import Settings
from autan.errors import ConfigError
from autan.tools.base import make_tool
from autan.tools.registry import BUILTINS, ToolRegistry
from autan.tools.spec import UNDECLARED, ArgKind, Effect, Trust, declare, spec_of


def _echo(text: str) -> str:
    """Echo the text.

    Args:
        text: What to echo.
    """
    return text


def test_undeclared_tool_is_treated_as_untrusted_egress() -> None:
    tool = make_tool(_echo)
    assert spec_of(tool) is UNDECLARED
    assert spec_of(tool).effect is Effect.EGRESS
    assert spec_of(tool).output_trust is Trust.UNTRUSTED


def test_declaration_is_kept_and_queried_by_kind() -> None:
    tool = declare(
        make_tool(_echo), effect="read_only", output_trust="trusted", args={"text": "url"}
    )
    spec = spec_of(tool)
    assert spec.effect is Effect.READ_ONLY and spec.output_trust is Trust.TRUSTED
    assert spec.args_of(ArgKind.URL) == ["text"]
    assert spec.args_of(ArgKind.CODE) == []


def test_bad_declaration_names_the_tool_and_the_choices() -> None:
    with pytest.raises(ConfigError) as err:
        declare(make_tool(_echo), effect="explodes", output_trust="trusted")
    assert "'_echo'" in err.value.message and "read_only" in (err.value.hint or "")


def test_every_builtin_declares_itself(tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(data_dir=tmp_path)
    registry = ToolRegistry.builtin(settings)
    assert registry.names()
    for tool in registry:
        assert isinstance(tool, BaseTool)
        assert spec_of(tool) is not UNDECLARED, tool.name
    assert set(registry.names()) <= set(BUILTINS)
    code_tools = {t.name for t in registry if spec_of(t).effect is Effect.CODE}
    assert code_tools == {"python", "run_command"} & set(registry.names())
