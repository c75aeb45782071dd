"""A real loopback HTTP server speaking /v1/chat/completions (tools, SSE streaming, failures).

Its "brain" is a function from the request body to a reply ``{"content": str, "tool_calls":
[{"name", "arguments"}]}``; the default brain greets, calls a tool when asked, and reports
tool results back, which is enough for the chat-model contract and agent runs.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from autan.agents.models.base import apply_stop

Brain = Callable[[dict[str, Any]], dict[str, Any]]


def sample_args(schema: dict[str, Any]) -> dict[str, Any]:
    """Minimal arguments that satisfy a JSON schema's required properties."""
    samples = {"integer": 2, "number": 1.5, "boolean": True, "array": [], "object": {}}
    args: dict[str, Any] = {}
    for name in schema.get("required", []):
        prop = schema.get("properties", {}).get(name, {})
        if "enum" in prop:
            args[name] = prop["enum"][0]
        else:
            args[name] = samples.get(prop.get("type", "string"), "hello")
    return args


def default_brain(body: dict[str, Any]) -> dict[str, Any]:
    """Greets; calls the first tool when tools are required or asked for; summarises results."""
    messages = body.get("messages", [])
    last = messages[-1] if messages else {}
    tools = body.get("tools") or []
    if last.get("role") == "tool":
        return {"content": f"Done: {last.get('content')}"}
    wants_tool = body.get("tool_choice") == "required" or "tool" in str(last.get("content"))
    if tools and wants_tool:
        fn = tools[0]["function"]
        return {"tool_calls": [{"name": fn["name"], "arguments": sample_args(fn["parameters"])}]}
    return {"content": "Hello there, friend. How are you today?"}


class _State:
    def __init__(self, brain: Brain) -> None:
        self.brain = brain
        self.requests: list[dict[str, Any]] = []
        self.fail_next: list[tuple[int, dict[str, str]]] = []
        self.delay_s = 0.0
        self.lock = threading.Lock()


def _wire_calls(calls: list[dict[str, Any]], n: int) -> list[dict[str, Any]]:
    return [
        {
            "index": i,
            "id": f"call{n}x{i}",
            "type": "function",
            "function": {"name": c["name"], "arguments": json.dumps(c["arguments"])},
        }
        for i, c in enumerate(calls)
    ]


class _Handler(BaseHTTPRequestHandler):
    state: _State

    def log_message(self, *args: Any) -> None:
        pass

    def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        if not self.path.endswith("/chat/completions"):
            self._send(404, b'{"error": "not found"}', {"Content-Type": "application/json"})
            return
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        with self.state.lock:
            self.state.requests.append(body)
            n = len(self.state.requests)
            failure = self.state.fail_next.pop(0) if self.state.fail_next else None
        if failure:
            self._send(failure[0], b'{"error": "try later"}', failure[1])
            return
        time.sleep(self.state.delay_s)
        reply = self.state.brain(body)
        content = apply_stop(reply.get("content") or "", body.get("stop"))
        calls = _wire_calls(reply.get("tool_calls") or [], n)
        if body.get("stream"):
            self._stream(content, calls)
        else:
            message = {"role": "assistant", "content": content or None}
            if calls:
                message["tool_calls"] = [
                    {k: v for k, v in c.items() if k != "index"} for c in calls
                ]
            out = {
                "id": f"cmpl{n}",
                "model": body.get("model"),
                "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 10, "completion_tokens": 5},
            }
            self._send(200, json.dumps(out).encode(), {"Content-Type": "application/json"})

    def _stream(self, content: str, calls: list[dict[str, Any]]) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        events: list[dict[str, Any]] = [{"content": w} for w in content.split(" ") if w]
        events = [
            {"content": e["content"] + (" " if i < len(events) - 1 else "")}
            for i, e in enumerate(events)
        ]
        for call in calls:  # arguments arrive in two pieces, as real servers send them
            args = call["function"]["arguments"]
            head = {**call, "function": {"name": call["function"]["name"], "arguments": args[:3]}}
            tail = {"index": call["index"], "function": {"arguments": args[3:]}}
            events += [{"tool_calls": [head]}, {"tool_calls": [tail]}]
        for delta in events:
            data = {"choices": [{"index": 0, "delta": delta, "finish_reason": None}]}
            self.wfile.write(f"data: {json.dumps(data)}\n\n".encode())
        usage = {"choices": [], "usage": {"prompt_tokens": 10, "completion_tokens": 5}}
        self.wfile.write(f"data: {json.dumps(usage)}\n\ndata: [DONE]\n\n".encode())
        self.wfile.flush()


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that timed out and hung up is expected in these tests; stay quiet."""


class FakeOpenAIServer:
    """Handle to a running server: its URL, the requests it saw, failures to inject."""

    def __init__(self, state: _State, server: ThreadingHTTPServer) -> None:
        self._state = state
        self._server = server
        self.url = f"http://127.0.0.1:{server.server_address[1]}/v1"

    @property
    def requests(self) -> list[dict[str, Any]]:
        """Request bodies received so far."""
        return self._state.requests

    def fail(self, status: int, times: int = 1, retry_after: str | None = None) -> None:
        """Answer the next ``times`` requests with ``status``."""
        headers = {"Retry-After": retry_after} if retry_after else {}
        self._state.fail_next.extend([(status, headers)] * times)

    def set_delay(self, seconds: float) -> None:
        """Sleep this long before every answer."""
        self._state.delay_s = seconds

    def set_brain(self, brain: Brain) -> None:
        """Replace the function that decides the replies."""
        self._state.brain = brain


def start(brain: Brain = default_brain) -> tuple[FakeOpenAIServer, Callable[[], None]]:
    """Start a server on 127.0.0.1 (random port); returns it and its stop function."""
    state = _State(brain)
    handler = type("Handler", (_Handler,), {"state": state})
    server = _Server(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

    return FakeOpenAIServer(state, server), stop


@contextmanager
def running(brain: Brain = default_brain) -> Iterator[FakeOpenAIServer]:
    """A server for the duration of a ``with`` block."""
    server, stop = start(brain)
    try:
        yield server
    finally:
        stop()
