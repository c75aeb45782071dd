"""The ``local:`` chat model: transformers weights with real tool calls.

Mistral checkpoints with tool tokens (v0.3 and later) are prompted in Mistral's own format by
mistral-common and their calls are found by the ``[TOOL_CALLS]`` token id; every other model uses
its chat template with the tools described in the prompt. ``constrained=True`` makes decoding
produce either text or a call valid against the bound tools' schemas.
"""

from __future__ import annotations

import json
import threading
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import torch
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, ToolCallChunk
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import ConfigDict, Field

from autan.agents.models.arg_coercion import coerce_calls
from autan.agents.models.base import ToolBindingChatModel
from autan.agents.models.call_parsing import (
    ParsedCalls,
    cut_off,
    drop_repeats,
    extract_calls,
    looks_like_call,
    parse_calls,
    resolve_names,
    value_closed,
)
from autan.agents.models.copy_bias import source_text
from autan.agents.models.grammar_budget import whole_calls
from autan.agents.models.local_loading import LocalRuntime, load_runtime
from autan.agents.models.local_stopping import (
    Decoding,
    TokenQueue,
    call_complete,
    cut_at_stop,
    reply_stops,
)
from autan.config import Settings
from autan.errors import BackendError, ModelOutputError, UserInputError

_FORCE = ("any", "required")


class UnforcedCallWarning(UserWarning):
    """A forced ``tool_choice`` that this model and configuration cannot enforce."""


MAX_CALLS = 8


@dataclass
class _Plan:
    """One generation: prompt, sampling arguments, and how to read the reply."""

    prompt: list[int]
    kwargs: dict[str, Any]
    tools: list[dict[str, Any]]
    stops: list[str]
    prefill: list[int] = field(default_factory=list)
    grammar: bool = False
    forced: bool = False


def _forced(choice: Any, messages: Sequence[BaseMessage]) -> bool | str:
    """False, True (any tool) or a tool name, from a LangChain/OpenAI ``tool_choice``."""
    if isinstance(choice, dict):
        return str(choice.get("function", {}).get("name") or True)
    if choice in _FORCE or choice is True:
        return True
    if choice in ("first", "once"):
        last_human = max((i for i, m in enumerate(messages) if m.type == "human"), default=-1)
        return not any(m.type == "tool" for m in messages[last_human + 1 :])
    if isinstance(choice, str) and choice not in ("auto", "none", ""):
        return choice
    return False


class LocalChatModel(ToolBindingChatModel):
    """A Hugging Face causal LM as a LangChain chat model with ``bind_tools`` and streaming."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    model_id: str
    runtime: LocalRuntime = Field(exclude=True, repr=False)
    max_new_tokens: int = 512
    temperature: float = 0.0
    top_p: float = 1.0
    constrained: bool = False
    force_calls: bool = True
    copy_bias: float = 2.0  # see copy_bias and shape_bias: values and shapes the text suggests
    tool_choice: str = "auto"
    seed: int | None = None
    timeout_s: float | None = None

    standard_names: ClassVar[dict[str, str]] = {
        "model": "model_id",
        "max_tokens": "max_new_tokens",
        "timeout": "timeout_s",
    }
    unused_standard: ClassVar[frozenset[str]] = frozenset({"max_retries", "api_key", "base_url"})

    @property
    def _llm_type(self) -> str:
        return "autan-local"

    @classmethod
    def _complete(cls, data: dict[str, Any]) -> dict[str, Any]:
        """``LocalChatModel(model="path-or-id")`` loads (or reuses) the weights itself."""
        if "runtime" not in data and isinstance(data.get("model_id"), str):
            data["runtime"] = load_runtime(data["model_id"], Settings())
        return data

    @classmethod
    def from_settings(cls, target: str, settings: Settings) -> LocalChatModel:
        """Load (or reuse) the weights ``target`` names, configured by ``settings.model``."""
        cfg = settings.model
        return cls(
            model_id=target,
            runtime=load_runtime(target, settings),
            max_new_tokens=cfg.max_new_tokens,
            temperature=cfg.temperature,
            constrained=cfg.constrained,
            force_calls=cfg.force_calls,
            copy_bias=cfg.copy_bias,
            tool_choice=cfg.tool_choice,
            seed=cfg.seed,
            timeout_s=cfg.timeout_s,
        )

    def _plan(
        self, messages: list[BaseMessage], stop: list[str] | None, kwargs: dict[str, Any]
    ) -> _Plan:
        fmt = self.runtime.format
        if kwargs.get("model") not in (None, self.model_id):
            raise UserInputError(
                f"the local model {self.model_id!r} cannot switch to {kwargs['model']!r} per call",
                hint="build another LocalChatModel for other weights",
            )
        tools = list(kwargs.get("tools") or [])
        choice = kwargs.get("tool_choice") or self.tool_choice
        force = _forced(choice, messages) if tools else False
        if choice == "none" or (choice == "once" and not force):
            tools, force = [], False
        if isinstance(force, str):
            tools = [t for t in tools if t["function"]["name"] == force]
            if not tools:
                raise UserInputError(f"tool_choice names {force!r}, which is not bound")
        plan = _Plan(fmt.encode(messages, tools), self._sampling(kwargs), tools, [])
        plan.stops, plan.forced = list(self.stops(stop) or []), bool(force)
        self._shape(plan, messages, kwargs.get("parallel_tool_calls") is not False)
        return plan

    def _shape(self, plan: _Plan, messages: Sequence[BaseMessage], parallel: bool) -> None:
        """How a call is produced: the grammar, a prefilled call token or opening, or text."""
        fmt, processors = self.runtime.format, []
        token = fmt.tool_call_token
        if plan.tools and (
            self.constrained or (plan.forced and token is None and self.force_calls)
        ):
            decoder = self._decoder()
            processors.append(
                decoder.processor(
                    plan.tools,
                    force_call=plan.forced,
                    max_calls=MAX_CALLS if parallel else 1,
                    budget=self._limit(plan),
                    source=source_text(messages),
                    copy_bias=self.copy_bias,
                )
            )
            plan.grammar = True
        elif plan.forced and token is not None:
            plan.prefill = [token]
        elif plan.forced and plan.tools and hasattr(fmt, "open_call"):
            plan.prefill = fmt.open_call(plan.tools)  # the model writes the rest, no grammar
        elif plan.forced and plan.tools:
            self._warn_unforced()
        plan.prompt.extend(plan.prefill)
        plan.kwargs["logits_processor"] = processors

    def _warn_unforced(self) -> None:
        """Say once per model that a forced ``tool_choice`` is only a request here."""
        extras = self.runtime.extras
        if not extras.get("warned_unforced"):
            extras["warned_unforced"] = True
            warnings.warn(
                f"{self.model_id} has no tool-call token or prompt and constrained decoding is off "
                "(force_calls=False), so tool_choice 'any' or a tool name cannot force a call; "
                "the model may answer in text",
                UnforcedCallWarning,
                stacklevel=2,
            )

    def _decoder(self) -> Any:
        from autan.agents.models.constrained import ConstrainedDecoder

        rt = self.runtime
        with rt.lock:
            if "decoder" not in rt.extras:
                rt.extras["decoder"] = ConstrainedDecoder(rt.format, rt.source)
            return rt.extras["decoder"]

    def _sampling(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        temperature = float(kwargs.get("temperature", self.temperature))
        fmt = self.runtime.format
        args: dict[str, Any] = {
            "max_new_tokens": int(
                kwargs.get("max_new_tokens", kwargs.get("max_tokens", self.max_new_tokens))
            ),
            "do_sample": temperature > 0,
            "eos_token_id": fmt.eos_ids,
            "pad_token_id": fmt.eos_ids[0],
        }
        if temperature > 0:
            args.update(temperature=temperature, top_p=self.top_p, top_k=0)
        if fmt.suppress_ids:
            args["suppress_tokens"] = fmt.suppress_ids
        if self.timeout_s:
            args["max_time"] = self.timeout_s
        return args

    def _run(self, plan: _Plan, streamer: Any = None) -> list[int]:
        """Generate; the new token ids (the prefill included)."""
        rt = self.runtime
        ids = torch.tensor([plan.prompt], device=rt.model.device)
        stopping = reply_stops(self, plan, len(plan.prompt))
        if isinstance(streamer, TokenQueue):
            stopping.append(streamer)
        with rt.lock, torch.inference_mode():
            if self.seed is not None:
                torch.manual_seed(self.seed)
            try:
                out = rt.model.generate(
                    input_ids=ids,
                    attention_mask=torch.ones_like(ids),
                    stopping_criteria=stopping or None,
                    streamer=streamer,
                    **plan.kwargs,
                )
            except (RuntimeError, ValueError) as exc:
                raise BackendError(f"local generation failed: {exc}") from exc
        new = [int(t) for t in out[0, len(plan.prompt) :]]
        return plan.prefill + new

    def reply(self, plan: _Plan, new_ids: list[int]) -> AIMessage:
        """The AI message for generated ids: text, parsed calls, finish reason and usage."""
        fmt = self.runtime.format
        ended = bool(new_ids) and new_ids[-1] in fmt.eos_ids
        body = [t for t in new_ids if t not in fmt.eos_ids]
        text_ids, call_ids = fmt.split_call(body)
        text, stopped = cut_at_stop(fmt.decode(text_ids), plan.stops)
        calls = ParsedCalls()
        if call_ids is not None and not stopped:
            calls = parse_calls(fmt.decode(call_ids))
            if not ended and new_ids:
                self._refuse_cut_call(plan, new_ids)
                calls = cut_off(fmt.decode(call_ids), self._limit(plan))
        elif plan.tools and not fmt.native_tools:
            finished = ended or stopped or call_complete(text)
            calls, text = self._prompted_calls(plan, text, finished, new_ids)
        kept = calls.tool_calls[: whole_calls(plan.kwargs.get("logits_processor") or ())]
        calls.tool_calls = drop_repeats(coerce_calls(kept, plan.tools))
        reason = "tool_calls" if calls.tool_calls else "stop" if ended or stopped else "length"
        generated = len(new_ids) - len(plan.prefill)
        return AIMessage(
            content=text.strip(),
            tool_calls=calls.tool_calls,
            invalid_tool_calls=calls.invalid_tool_calls,
            response_metadata={"finish_reason": reason, "model_name": self.model_id},
            usage_metadata={
                "input_tokens": len(plan.prompt),
                "output_tokens": generated,
                "total_tokens": len(plan.prompt) + generated,
            },
        )

    def _prompted_calls(
        self, plan: _Plan, text: str, finished: bool, new_ids: list[int]
    ) -> tuple[ParsedCalls, str]:
        """Calls written as text by a model with no call token, and the text left."""
        parsed, names = ParsedCalls(), frozenset(t["function"]["name"] for t in plan.tools)
        if looks_like_call(text):
            finished = finished or value_closed(text)
            if not finished:
                self._refuse_cut_call(plan, new_ids)
            parsed = parse_calls(text) if finished else cut_off(text, self._limit(plan))
            parsed = resolve_names(parsed, names)
            if parsed.tool_calls:
                return parsed, ""
        if not plan.grammar:
            found = extract_calls(text, names, search=plan.forced)
            if found.tool_calls:
                return found, ""
        if any(c["name"] for c in parsed.invalid_tool_calls):
            return parsed, ""
        return ParsedCalls(), text

    def _reads(self, plan: _Plan, text: str) -> bool:
        """Whether the reader finds a call in ``text``, read as a finished reply."""
        return bool(self._prompted_calls(plan, text, True, [])[0].tool_calls)

    @staticmethod
    def _limit(plan: _Plan) -> int:
        return int(plan.kwargs["max_new_tokens"])

    def _refuse_cut_call(self, plan: _Plan, new_ids: list[int]) -> None:
        """A grammar-constrained call cut by the token budget is an error, never a dropped call."""
        limit = self._limit(plan)
        if plan.grammar and len(new_ids) - len(plan.prefill) >= limit:
            raise ModelOutputError(
                f"the constrained tool call did not fit in max_tokens={limit}; "
                "the model's output was cut off before the call closed",
                hint=f"raise max_tokens (max_new_tokens) above {limit}",
                budget=limit,
            )

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        plan = self._plan(messages, stop, kwargs)
        message = self.reply(plan, self._run(plan))
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        plan = self._plan(messages, stop, kwargs)
        tokens = TokenQueue()
        worker = threading.Thread(target=self._worker, args=(plan, tokens), daemon=True)
        worker.start()
        decoding = Decoding(self.runtime.format, plan.stops, guard_json=bool(plan.tools))
        for token in plan.prefill:
            decoding.push(token)
        try:
            for token in tokens:
                piece = decoding.push(token)
                if piece:
                    chunk = ChatGenerationChunk(message=AIMessageChunk(content=piece))
                    if run_manager:
                        run_manager.on_llm_new_token(piece, chunk=chunk)
                    yield chunk
            yield self._last_chunk(self.reply(plan, decoding.ids), decoding.sent)
        finally:
            tokens.cancelled.set()
            worker.join()

    def _worker(self, plan: _Plan, tokens: TokenQueue) -> None:
        try:
            self._run(plan, streamer=tokens)
        except BaseException as exc:  # handed to the consumer thread, which re-raises
            tokens.fail(exc)
        finally:
            tokens.end()

    @staticmethod
    def _last_chunk(message: AIMessage, sent: str) -> ChatGenerationChunk:
        """The rest of the text, every call as a chunk, finish reason and usage."""
        text = str(message.content)
        rest = text[len(sent) :] if text.startswith(sent) else ""
        chunks = [
            ToolCallChunk(name=c["name"], args=json.dumps(c["args"]), id=c["id"], index=i)
            for i, c in enumerate(message.tool_calls)
        ]
        offset = len(chunks)
        chunks += [
            ToolCallChunk(
                name=c.get("name"),
                args=json.dumps(f"{c.get('error')}: {c.get('args')}"),
                id=c.get("id"),
                index=offset + i,
            )
            for i, c in enumerate(message.invalid_tool_calls)
        ]
        chunk = AIMessageChunk(
            content=rest,
            tool_call_chunks=chunks,
            response_metadata=message.response_metadata,
            usage_metadata=message.usage_metadata,
            chunk_position="last",
        )
        return ChatGenerationChunk(message=chunk)
