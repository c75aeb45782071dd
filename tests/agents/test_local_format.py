"""Mistral's format via mistral-common: token-for-token parity, ids, chat-template fallback."""

from __future__ import annotations

import json
from typing import Any

import pytest
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage
from mistral_common.protocol.instruct.messages import (
    AssistantMessage,
    UserMessage,
)
from mistral_common.protocol.instruct.messages import (
    SystemMessage as MSystem,
)
from mistral_common.protocol.instruct.messages import (
    ToolMessage as MTool,
)
from mistral_common.protocol.instruct.request import ChatCompletionRequest
from mistral_common.protocol.instruct.tool_calls import Function, FunctionCall, Tool, ToolCall
from mistral_common.tokens.tokenizers.base import SpecialTokenPolicy
from mistral_common.tokens.tokenizers.mistral import MistralTokenizer

from autan.agents.models.base import openai_tools
from autan.agents.models.mistral_format import MistralFormat, mistral_id, mistral_tokenizer_file
from autan.agents.models.template_format import TemplateFormat, describe_tools
from autan.agents.models.tiny import v3_tokenizer_file


def get_weather(city: str, days: int = 1) -> str:
    """Forecast for a city.

    Args:
        city: City name.
        days: How many days ahead.
    """
    return "sunny"


def add(a: int, b: int) -> int:
    """Add two integers.

    Args:
        a: First.
        b: Second.
    """
    return a + b


TOOLS = openai_tools([get_weather, add])
M_TOOLS = [
    Tool(
        function=Function(
            name=t["function"]["name"],
            description=t["function"]["description"],
            parameters=t["function"]["parameters"],
        )
    )
    for t in TOOLS
]


def _call(name: str, args: dict[str, Any], call_id: str) -> ToolCall:
    return ToolCall(id=call_id, function=FunctionCall(name=name, arguments=json.dumps(args)))


CONVERSATIONS: list[tuple[str, list[BaseMessage], bool, list[Any]]] = [
    ("plain", [HumanMessage("Hello there")], False, [UserMessage(content="Hello there")]),
    (
        "system-merged",
        [SystemMessage("Be brief."), HumanMessage("Hi"), AIMessage("Hello!"), HumanMessage("Bye")],
        False,
        [
            MSystem(content="Be brief."),
            UserMessage(content="Hi"),
            AssistantMessage(content="Hello!"),
            UserMessage(content="Bye"),
        ],
    ),
    ("tools", [HumanMessage("Weather in Oslo?")], True, [UserMessage(content="Weather in Oslo?")]),
    (
        "tool-result",
        [
            SystemMessage("Use tools."),
            HumanMessage("Weather in Oslo?"),
            AIMessage(
                "",
                tool_calls=[{"name": "get_weather", "args": {"city": "Oslo"}, "id": "abcDEF123"}],
            ),
            ToolMessage(
                '{"ok": true, "sky": "rain"}', tool_call_id="abcDEF123", name="get_weather"
            ),
        ],
        True,
        [
            MSystem(content="Use tools."),
            UserMessage(content="Weather in Oslo?"),
            AssistantMessage(tool_calls=[_call("get_weather", {"city": "Oslo"}, "abcDEF123")]),
            MTool(
                content='{"ok": true, "sky": "rain"}', tool_call_id="abcDEF123", name="get_weather"
            ),
        ],
    ),
    (
        "several-calls-multi-turn",
        [
            HumanMessage("Add 1+2 and 3+4"),
            AIMessage(
                "",
                tool_calls=[
                    {"name": "add", "args": {"a": 1, "b": 2}, "id": "call_1"},
                    {"name": "add", "args": {"a": 3, "b": 4}, "id": "call_2"},
                ],
            ),
            ToolMessage("3", tool_call_id="call_1", name="add"),
            ToolMessage("7", tool_call_id="call_2", name="add"),
            AIMessage("3 and 7."),
            HumanMessage("And the weather in Rome?"),
        ],
        True,
        [
            UserMessage(content="Add 1+2 and 3+4"),
            AssistantMessage(
                tool_calls=[
                    _call("add", {"a": 1, "b": 2}, mistral_id("call_1")),
                    _call("add", {"a": 3, "b": 4}, mistral_id("call_2")),
                ]
            ),
            MTool(content="3", tool_call_id=mistral_id("call_1"), name="add"),
            MTool(content="7", tool_call_id=mistral_id("call_2"), name="add"),
            AssistantMessage(content="3 and 7."),
            UserMessage(content="And the weather in Rome?"),
        ],
    ),
]


@pytest.fixture(scope="module")
def fmt() -> MistralFormat:
    return MistralFormat(v3_tokenizer_file())


@pytest.mark.parametrize(
    "name,messages,with_tools,expected", CONVERSATIONS, ids=[c[0] for c in CONVERSATIONS]
)
def test_prompt_tokens_match_mistral_common(
    fmt: MistralFormat,
    name: str,
    messages: list[BaseMessage],
    with_tools: bool,
    expected: list[Any],
) -> None:
    reference = MistralTokenizer.from_file(str(v3_tokenizer_file()))
    request = ChatCompletionRequest(messages=expected, tools=M_TOOLS if with_tools else None)
    want = reference.encode_chat_completion(request).tokens
    assert fmt.encode(messages, TOOLS if with_tools else []) == want


def test_tools_come_before_the_last_user_turn_with_the_system_prompt(fmt: MistralFormat) -> None:
    messages = CONVERSATIONS[4][1]
    ids = fmt.encode([SystemMessage("Be exact."), *messages], TOOLS)
    text = fmt.inner.decode(ids, special_token_policy=SpecialTokenPolicy.KEEP).replace(
        "\u2581", " "
    )
    tools_at = text.index("[AVAILABLE_TOOLS]")
    last_inst = text.rindex("[INST]")
    assert text.count("[AVAILABLE_TOOLS]") == 1 and tools_at < last_inst
    assert "Be exact." in text[last_inst:] and "Be exact." not in text[:last_inst]
    assert text.count("[TOOL_RESULTS]") == 2


def test_foreign_call_ids_map_to_stable_nine_alphanumerics() -> None:
    for raw in ("call_1", "toolu_01ABC", "a1", "x" * 40):
        mapped = mistral_id(raw)
        assert len(mapped) == 9 and mapped.isalnum() and mapped == mistral_id(raw)
    assert mistral_id("abcDEF123") == "abcDEF123"
    assert mistral_id("call_1") != mistral_id("call_2")


def test_tokenizer_file_is_found_in_a_model_folder(tmp_path: Any) -> None:
    assert mistral_tokenizer_file(tmp_path) is None
    (tmp_path / "tokenizer.model.v3").write_bytes(v3_tokenizer_file().read_bytes())
    assert mistral_tokenizer_file(tmp_path) == tmp_path / "tokenizer.model.v3"


def _chatml_tokenizer() -> Any:
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    words = ["<|im_start|>", "<|im_end|>", "[UNK]", *sorted(set("abcdefghijklmnopqrstuvwxyz"))]
    raw = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="[UNK]"))
    raw.pre_tokenizer = pre_tokenizers.Split("", "isolated")
    tok = PreTrainedTokenizerFast(tokenizer_object=raw, eos_token="<|im_end|>", unk_token="[UNK]")
    tok.chat_template = (
        "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}"
        "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
    )
    return tok


def test_chat_template_fallback_describes_tools_and_replays_calls_as_text() -> None:
    fmt = TemplateFormat(_chatml_tokenizer())
    messages: list[BaseMessage] = [
        SystemMessage("Be brief."),
        HumanMessage("weather?"),
        AIMessage("", tool_calls=[{"name": "get_weather", "args": {"city": "Oslo"}, "id": "q"}]),
        ToolMessage("rain", tool_call_id="q", name="get_weather"),
    ]
    text = fmt.tokenizer.decode(fmt.encode(messages, TOOLS))
    from autan.agents.models.template_format import to_chat

    chat = to_chat(messages, TOOLS, merge_system=False)
    assert chat[0]["role"] == "system" and describe_tools(TOOLS) in chat[0]["content"]
    assert json.loads(chat[2]["content"]) == {"name": "get_weather", "arguments": {"city": "Oslo"}}
    assert chat[3] == {"role": "user", "content": "Result of tool get_weather:\nrain"}
    assert fmt.eos_ids == [fmt.tokenizer.convert_tokens_to_ids("<|im_end|>")]
    assert len(text) > 0


def test_tokenizers_without_tool_tokens_are_not_native(tmp_path: Any) -> None:
    data = v3_tokenizer_file().parent
    v1 = MistralFormat(data / "tokenizer.model.v1")
    assert not v1.native_tools and v1.tool_call_token is None
    (tmp_path / "tokenizer.model").write_bytes((data / "tokenizer.model.v1").read_bytes())
    assert mistral_tokenizer_file(tmp_path) is None  # a bare tokenizer.model may be Llama's
