"""``openai:<base-url>#<model>``: any OpenAI-compatible server (vLLM, Ollama, llama.cpp, TGI).

Plain httpx: tools, SSE streaming, timeouts, retries with backoff on 429/5xx and connection
failures (honouring Retry-After), and errors that name the URL.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

import httpx
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.messages import AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import ConfigDict, Field, PrivateAttr

from autan.agents.models.base import ToolBindingChatModel
from autan.agents.models.openai_wire import chunk_from_wire, from_wire, to_wire, wire_tool_choice
from autan.config import Settings
from autan.errors import BackendError, BackendTimeout, ConfigError

_RETRY_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504})
_MAX_RETRY_AFTER_S = 30.0


class OpenAICompatChatModel(ToolBindingChatModel):
    """A chat model served over the OpenAI chat-completions API."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    base_url: str
    model: str
    api_key: str | None = Field(default=None, repr=False)
    timeout_s: float = 120.0
    max_retries: int = 3
    retry_backoff_s: float = 0.5
    temperature: float | None = 0.0
    max_tokens: int | None = None
    transport: httpx.BaseTransport | None = Field(default=None, exclude=True)
    _client: httpx.Client | None = PrivateAttr(default=None)

    standard_names: ClassVar[dict[str, str]] = {"timeout": "timeout_s"}
    ls_provider: ClassVar[str] = "openai"

    @classmethod
    def _complete(cls, data: dict[str, Any]) -> dict[str, Any]:
        """Without an ``api_key``, take AUTAN_OPENAI_API_KEY or OPENAI_API_KEY."""
        if data.get("api_key") is None:
            data["api_key"] = os.environ.get("AUTAN_OPENAI_API_KEY") or os.environ.get(
                "OPENAI_API_KEY"
            )
        return data

    @classmethod
    def from_settings(cls, base_url: str, model: str, settings: Settings) -> OpenAICompatChatModel:
        """Configure from settings; the key comes from AUTAN_OPENAI_API_KEY or OPENAI_API_KEY."""
        if not base_url.startswith(("http://", "https://")):
            raise ConfigError(
                f"model server URL {base_url!r} is not http(s)",
                hint="write openai:http://127.0.0.1:11434/v1#mistral",
            )
        key = os.environ.get("AUTAN_OPENAI_API_KEY") or os.environ.get("OPENAI_API_KEY")
        return cls(
            base_url=base_url,
            model=model,
            api_key=key,
            timeout_s=settings.model.timeout_s,
            max_retries=settings.model.max_retries,
            temperature=settings.model.temperature,
            max_tokens=settings.model.max_new_tokens,
        )

    @property
    def _llm_type(self) -> str:
        return "autan-openai-compat"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"base_url": self.base_url, "model": self.model}

    @property
    def url(self) -> str:
        """The chat-completions endpoint."""
        return self.base_url.rstrip("/") + "/chat/completions"

    def _http(self) -> httpx.Client:
        if self._client is None:
            headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
            self._client = httpx.Client(
                timeout=httpx.Timeout(self.timeout_s, connect=min(10.0, self.timeout_s)),
                headers=headers,
                transport=self.transport,
            )
        return self._client

    def _payload(
        self, messages: list[BaseMessage], stop: list[str] | None, stream: bool, **kw: Any
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": kw.get("model") or self.model,
            "messages": [to_wire(m) for m in messages],
            "stream": stream,
        }
        temperature = kw.get("temperature", self.temperature)
        if temperature is not None:
            body["temperature"] = temperature
        if kw.get("max_tokens", self.max_tokens):
            body["max_tokens"] = kw.get("max_tokens", self.max_tokens)
        if self.stops(stop):
            body["stop"] = self.stops(stop)
        if kw.get("tools"):
            body["tools"] = kw["tools"]
            if kw.get("tool_choice") is not None:
                body["tool_choice"] = wire_tool_choice(kw["tool_choice"])
        if stream:
            body["stream_options"] = {"include_usage": True}
        return body

    def _wait(self, attempt: int, response: httpx.Response | None) -> None:
        delay = self.retry_backoff_s * (2**attempt)
        header = response.headers.get("retry-after") if response is not None else None
        if header:
            try:
                delay = max(0.0, min(float(header), _MAX_RETRY_AFTER_S))
            except ValueError:
                pass
        time.sleep(delay)

    @contextmanager
    def _request(self, body: dict[str, Any]) -> Iterator[httpx.Response]:
        """POST with retries; yields a response whose status is 2xx (body not yet read)."""
        for attempt in range(self.max_retries + 1):
            last = attempt == self.max_retries
            try:
                request = self._http().build_request("POST", self.url, json=body)
                response = self._http().send(request, stream=True)
            except httpx.TimeoutException as exc:
                if last:
                    raise BackendTimeout(
                        f"model server {self.url} did not answer within {self.timeout_s:g}s",
                        hint="raise model.timeout_s or check the server",
                    ) from exc
                self._wait(attempt, None)
                continue
            except httpx.HTTPError as exc:
                if last:
                    raise BackendError(
                        f"cannot reach model server {self.url}: {type(exc).__name__}",
                        hint="start the server or fix the URL in --model openai:<url>#<model>",
                    ) from exc
                self._wait(attempt, None)
                continue
            if response.status_code in _RETRY_STATUS and not last:
                response.close()
                self._wait(attempt, response)
                continue
            try:
                if response.status_code >= 400:
                    response.read()
                    raise _status_error(self.url, response)
                yield response
            finally:
                response.close()
            return

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        payload = self._payload(messages, stop, False, **kwargs)
        with self._request(payload) as response:
            response.read()
            body = _json(self.url, response.text)
        body["model"] = body.get("model") or payload["model"]
        return ChatResult(generations=[ChatGeneration(message=from_wire(body))])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        body = self._payload(messages, stop, True, **kwargs)
        served = str(body["model"])
        with self._request(body) as response:
            for line in response.iter_lines():
                if not line.startswith("data:"):
                    continue
                data = line[5:].strip()
                if data == "[DONE]":
                    break
                event = _json(self.url, data)
                served = str(event.get("model") or served)
                chunk = chunk_from_wire(event)
                if chunk is None:
                    continue
                if run_manager and isinstance(chunk.content, str) and chunk.content:
                    run_manager.on_llm_new_token(chunk.content)
                yield ChatGenerationChunk(message=chunk)
        last = AIMessageChunk(
            content="", response_metadata={"model_name": served}, chunk_position="last"
        )
        yield ChatGenerationChunk(message=last)


def _json(url: str, text: str) -> dict[str, Any]:
    try:
        body = json.loads(text)
    except json.JSONDecodeError:
        raise BackendError(f"model server {url} sent a response that is not JSON") from None
    if not isinstance(body, dict):
        raise BackendError(f"model server {url} sent an unexpected response shape")
    return body


def _status_error(url: str, response: httpx.Response) -> BackendError:
    detail = response.text[:200].replace("\n", " ")
    if response.status_code in (401, 403):
        return BackendError(
            f"model server {url} refused the request ({response.status_code}): {detail}",
            hint="set AUTAN_OPENAI_API_KEY",
        )
    if response.status_code == 404:
        return BackendError(
            f"model server {url} answered 404: {detail}",
            hint="check the base URL (it usually ends in /v1) and the model name after #",
        )
    return BackendError(f"model server {url} answered {response.status_code}: {detail}")
