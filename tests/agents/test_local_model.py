"""The local: model on a tiny random Mistral: load → render → generate → parse, streaming, stops."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest
import torch
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage, ToolMessage

from autan.agents.models.local_loading import (
    choose_device,
    choose_dtype,
    cpu_prefers_bf16,
    load_runtime,
)
from autan.agents.models.mistral_local import LocalChatModel
from autan.agents.models.spec import load_model
from autan.agents.models.tiny import tiny_mistral_dir
from autan.config import Settings
from autan.errors import ConfigError, UserInputError
from tests.agents.local_fixtures import one_torch_thread  # noqa: F401  (autouse)


def lookup(city: str, days: int = 1) -> str:
    """Look up a forecast.

    Args:
        city: City name.
        days: Days ahead.
    """
    return "sunny"


@pytest.fixture
def model(settings: Settings) -> LocalChatModel:
    settings.model.max_new_tokens = 12
    m = load_model(f"local:{tiny_mistral_dir()}", settings)
    assert isinstance(m, LocalChatModel)
    return m


def test_loads_once_per_process_and_renders_mistral_format(
    model: LocalChatModel, settings: Settings
) -> None:
    assert load_runtime(str(tiny_mistral_dir()), settings) is model.runtime
    assert model.runtime.format.native_tools and model.runtime.format.tool_call_token == 5
    assert model.runtime.device == "cpu"


def test_invoke_generates_text_with_usage_and_finish_reason(model: LocalChatModel) -> None:
    reply = model.invoke("Say hello.")
    assert isinstance(reply, AIMessage) and isinstance(reply.content, str)
    assert reply.response_metadata["finish_reason"] in {"length", "stop"}
    usage = reply.usage_metadata or {}
    assert usage["output_tokens"] <= 12 and usage["input_tokens"] > 3


def test_stream_aggregates_to_the_invoke_reply(model: LocalChatModel) -> None:
    whole = model.invoke("Say hello.")
    chunks = list(model.stream("Say hello."))
    total = chunks[0]
    for c in chunks[1:]:
        total = total + c
    assert isinstance(total, AIMessageChunk) and total.content == whole.content
    assert total.response_metadata["finish_reason"] == whole.response_metadata["finish_reason"]


def test_stop_sequence_cuts_the_reply_and_the_stream(model: LocalChatModel) -> None:
    free = str(model.invoke("Say hello.", max_new_tokens=24).content)
    cut = free.strip()[3:5]
    assert cut, free
    stopped = model.invoke("Say hello.", stop=[cut], max_new_tokens=24)
    assert cut not in str(stopped.content) and free.startswith(str(stopped.content))
    streamed = "".join(
        str(c.content) for c in model.stream("Say hello.", stop=[cut], max_new_tokens=24)
    )
    assert streamed == stopped.content


def test_forced_call_without_grammar_prefills_the_tool_calls_token(model: LocalChatModel) -> None:
    reply = model.bind_tools([lookup], tool_choice="any").invoke("Use a tool.")
    # random weights cannot write JSON: the attempt is reported, never silently dropped
    assert reply.tool_calls or reply.invalid_tool_calls
    assert reply.response_metadata["finish_reason"] in {"tool_calls", "length", "stop"}


def test_history_with_tool_calls_and_results_renders_and_answers(model: LocalChatModel) -> None:
    history = [
        HumanMessage("Weather in Oslo?"),
        AIMessage("", tool_calls=[{"name": "lookup", "args": {"city": "Oslo"}, "id": "call-1"}]),
        ToolMessage('{"ok": true}', tool_call_id="call-1", name="lookup"),
    ]
    reply = model.bind_tools([lookup]).invoke(history)
    assert isinstance(reply, AIMessage)


async def test_async_invoke_and_stream(model: LocalChatModel) -> None:
    reply = await model.ainvoke("Say hello.")
    chunks = [c async for c in model.astream("Say hello.")]
    assert "".join(str(c.content) for c in chunks) == reply.content


def test_unknown_hub_id_offline_fails_in_one_line(settings: Settings) -> None:
    with pytest.raises(ConfigError) as info:
        load_model("local:nobody-here/no-such-model-7B", settings)
    line = info.value.one_line()
    assert "\n" not in line and "not on this machine" in line and "local:/path/to" in line


def test_missing_path_is_a_user_error(settings: Settings, tmp_path: Any) -> None:
    with pytest.raises(UserInputError):
        load_model(f"local:{tmp_path / 'nope'}", settings)


@pytest.mark.parametrize(
    "field,value,extra", [("quantization", "4bit", "quant"), ("adapter", "/x", "lora")]
)
def test_optional_extras_name_themselves_when_missing(
    settings: Settings, field: str, value: str, extra: str
) -> None:
    package = {"quant": "bitsandbytes", "lora": "peft"}[extra]
    if importlib.util.find_spec(package) is not None:
        pytest.skip(f"{package} is installed")
    setattr(settings.model, field, value)
    with pytest.raises(ConfigError) as info:
        load_model(f"local:{tiny_mistral_dir()}", settings)
    assert f"autan[{extra}]" in info.value.one_line()


def test_cli_ask_with_a_local_path_answers(capsys: pytest.CaptureFixture[str]) -> None:
    from autan.cli.app import main

    target = f"local:{tiny_mistral_dir()}"
    code = main(["ask", "--model", target, "--tools", "calculator", "--json", "Say hello."])
    out = capsys.readouterr().out
    assert code == 0, out
    assert isinstance(json.loads(out)["answer"], str)


def test_cli_unknown_model_id_exits_2_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    from autan.cli.app import main

    code = main(["ask", "--model", "local:nobody-here/no-such-model", "hi"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert "not on this machine" in err and "local:/path/to/model-folder" in err


def test_explicit_device_and_dtype_are_respected() -> None:
    assert choose_device("cpu") == "cpu" and choose_dtype("cpu", "bfloat16") == torch.bfloat16
    assert choose_dtype("cpu", "auto") in {torch.bfloat16, torch.float32}
    with pytest.raises(ConfigError):
        choose_dtype("cpu", "int3")


def test_cpu_bf16_follows_the_flags_not_a_timing(tmp_path: Path) -> None:
    native = tmp_path / "native"
    native.write_text("processor\t: 0\nflags\t\t: fpu avx2 avx512f avx512_bf16 avx512_vnni\n")
    plain = tmp_path / "plain"
    plain.write_text("processor\t: 0\nflags\t\t: fpu avx2 avx512f avx512_vnni\n")
    arm = tmp_path / "arm"
    arm.write_text("processor\t: 0\nFeatures\t: fp asimd bf16 i8mm\n")
    assert cpu_prefers_bf16(str(native)) and cpu_prefers_bf16(str(arm))
    assert not cpu_prefers_bf16(str(plain))
    assert isinstance(cpu_prefers_bf16(str(tmp_path / "missing")), bool)  # the probe decides
