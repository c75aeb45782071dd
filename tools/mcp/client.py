"""MCP client: an MCP server's tools as autan tools, each call bounded by the server's timeout.

One ``McpLink`` per configured server. Its connection lives in one task on a private event loop
(the SDK's transports must be entered and left by the same task); calls are handed to that task
and answered through futures, so sync tool calls from worker threads and async ones both work.
A stdio server is started on first use and stopped when the link closes. A call that times out
or breaks the connection is reported as a tool error, and the next call starts a fresh server.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import weakref
from pathlib import Path
from typing import Any, TextIO

import anyio
from langchain_core.tools import BaseTool, StructuredTool

from autan.config import McpServerSettings
from autan.errors import BackendError, ConfigError
from autan.tools.base import ToolResult, fail, ok, report_errors
from autan.tools.spec import Trust, declare
from autan.tools.web.runner import LoopThread

PREFIX_SEP = "__"
_Job = tuple[str, dict[str, Any], "asyncio.Future[ToolResult]"]


def require_mcp() -> None:
    """Fail with the install hint when the MCP SDK is missing."""
    try:
        import mcp  # noqa: F401
    except ModuleNotFoundError:
        raise ConfigError("MCP needs the MCP SDK", hint="pip install 'autan[mcp]'") from None


def _transport(name: str, cfg: McpServerSettings, errlog: TextIO) -> Any:
    """The SDK transport (or URL) the configured server is reached by."""
    from mcp.client.stdio import StdioServerParameters, stdio_client

    if cfg.command:
        params = StdioServerParameters(
            command=cfg.command[0], args=list(cfg.command[1:]), env=dict(cfg.env) or None
        )
        return stdio_client(params, errlog=errlog)
    if cfg.url:
        if not cfg.headers:
            return cfg.url
        import httpx2
        from mcp.client.streamable_http import streamable_http_client

        return streamable_http_client(cfg.url, http_client=httpx2.AsyncClient(headers=cfg.headers))
    raise ConfigError(
        f"MCP server {name!r} has neither 'command' nor 'url'",
        hint=f"set [tools.mcp.{name}] command = [...] (stdio) or url = '...' (HTTP)",
    )


def render_content(result: Any, limit: int) -> str:
    """The text of a CallToolResult's content blocks, cut to ``limit`` characters."""
    parts: list[str] = []
    for block in result.content:
        kind = getattr(block, "type", "")
        if kind == "text":
            parts.append(block.text)
        elif kind == "resource" and hasattr(block.resource, "text"):
            parts.append(block.resource.text)
        else:
            parts.append(f"[{kind or 'content'}: {getattr(block, 'mime_type', '') or 'binary'}]")
    text = "\n".join(parts)
    if len(text) > limit:
        text = f"{text[:limit]}\n[… {len(text) - limit} more characters cut by autan]"
    return text


class McpLink:
    """The connection to one MCP server, opened lazily and reopened after a failure."""

    def __init__(self, name: str, cfg: McpServerSettings, loop: LoopThread, log_dir: Path) -> None:
        self.name = name
        self.cfg = cfg
        self._loop = loop
        self._log_dir = log_dir
        self._jobs: asyncio.Queue[_Job | None] | None = None
        self._task: asyncio.Task[None] | None = None
        self._listed: list[Any] | None = None

    # -- connection task -------------------------------------------------------------------
    async def _open(self) -> asyncio.Queue[_Job | None]:
        if self._task is not None and not self._task.done() and self._jobs is not None:
            return self._jobs
        jobs: asyncio.Queue[_Job | None] = asyncio.Queue()
        ready: asyncio.Future[list[Any]] = asyncio.get_running_loop().create_future()
        self._jobs = jobs
        self._task = asyncio.ensure_future(self._serve(jobs, ready))
        try:
            self._listed = await asyncio.wait_for(ready, self.cfg.startup_timeout_s)
        except TimeoutError:
            self._drop()
            raise BackendError(
                f"MCP server {self.name!r} did not start within {self.cfg.startup_timeout_s:g}s",
                hint=f"check its command, or see {self._log_path()}",
            ) from None
        return jobs

    def _log_path(self) -> Path:
        return self._log_dir / f"mcp-{self.name}.log"

    async def _serve(self, jobs: asyncio.Queue[_Job | None], ready: asyncio.Future[Any]) -> None:
        from mcp import Client

        self._log_dir.mkdir(parents=True, exist_ok=True)
        try:
            with self._log_path().open("a", encoding="utf-8") as errlog:
                target = _transport(self.name, self.cfg, errlog)
                async with Client(target, cache=None) as client:
                    tools = (await client.list_tools()).tools
                    ready.set_result(tools)
                    async with anyio.create_task_group() as group:
                        while (job := await jobs.get()) is not None:
                            group.start_soon(self._call, client, job)
                        group.cancel_scope.cancel()
        except BaseException as exc:  # noqa: BLE001 - the link reports, then reopens on next use
            if not ready.done():
                ready.set_exception(self._broken(exc))
            self._fail_queued(jobs, exc)
            if not isinstance(exc, Exception):
                raise

    async def _call(self, client: Any, job: _Job) -> None:
        tool, args, answer = job
        try:
            with anyio.fail_after(self.cfg.timeout_s):
                result = await client.call_tool(tool, args)
        except TimeoutError:
            self._settle(answer, self._timeout(tool))
            self._drop()  # a hung server is stopped; the next call starts a fresh one
            return
        except Exception as exc:  # noqa: BLE001 - protocol and transport failures become data
            self._settle(answer, fail("BackendError", self._broken(exc).one_line()))
            if not _server_answered(exc):
                self._drop()
            return
        text = render_content(result, self.cfg.max_output_chars)
        if result.is_error:
            self._settle(answer, fail("ToolError", text or f"{tool} failed"))
        else:
            self._settle(answer, ok(output=text, structured=result.structured_content))

    def _timeout(self, tool: str) -> ToolResult:
        return fail(
            "BackendTimeout",
            f"MCP server {self.name!r} did not answer {tool} within {self.cfg.timeout_s:g}s; "
            "it was stopped and will be restarted on the next call",
        )

    def _broken(self, exc: BaseException) -> BackendError:
        detail = str(exc).strip() or type(exc).__name__
        return BackendError(
            f"MCP server {self.name!r} failed: {detail}",
            hint=f"see {self._log_path()} for the server's own messages",
        )

    @staticmethod
    def _settle(answer: asyncio.Future[ToolResult], result: ToolResult) -> None:
        if not answer.done():
            answer.set_result(result)

    def _fail_queued(self, jobs: asyncio.Queue[_Job | None], exc: BaseException) -> None:
        while not jobs.empty():
            job = jobs.get_nowait()
            if job is not None:
                self._settle(job[2], fail("BackendError", self._broken(exc).one_line()))

    def _drop(self) -> None:
        """Forget the connection; its task is cancelled, which stops a stdio server."""
        task, self._task, self._jobs = self._task, None, None
        if task is not None and not task.done():
            task.cancel()

    # -- public API ------------------------------------------------------------------------
    async def alist(self) -> list[Any]:
        """The server's tools (connects on first use)."""
        await self._open()
        return list(self._listed or [])

    async def acall(self, tool: str, args: dict[str, Any]) -> ToolResult:
        """Call one tool; every failure, a timeout included, comes back as a failed result."""
        try:
            jobs = await self._open()
        except BackendError as exc:
            return fail(type(exc).__name__, exc.one_line())
        answer: asyncio.Future[ToolResult] = asyncio.get_running_loop().create_future()
        await jobs.put((tool, args, answer))
        return await answer

    async def acall_anywhere(self, tool: str, args: dict[str, Any]) -> ToolResult:
        """``acall`` awaited from any event loop (the link's own runs on its thread)."""
        return await self._loop.arun(self.acall(tool, args))

    def list_tools(self) -> list[Any]:
        """Sync ``alist``."""
        return self._loop.run(self.alist())

    def call(self, tool: str, args: dict[str, Any]) -> ToolResult:
        """Sync ``acall`` (from any thread but the link's loop)."""
        return self._loop.run(self.acall(tool, args))

    async def _aclose(self) -> None:
        task, jobs = self._task, self._jobs
        self._task = self._jobs = None
        if task is None or task.done() or jobs is None:
            return
        await jobs.put(None)
        with contextlib.suppress(BaseException):
            await asyncio.wait_for(task, 5.0)

    def close(self) -> None:
        """Stop the server (stdio) or end the session (HTTP)."""
        if self._task is not None:
            self._loop.run(self._aclose())


def _server_answered(exc: BaseException) -> bool:
    """True for an error reply from a live server (bad arguments, unknown tool)."""
    from mcp.shared.exceptions import MCPError

    return isinstance(exc, MCPError) and exc.code not in (-32000, -32001)


def tool_for(link: McpLink, listed: Any) -> BaseTool:
    """One server tool as a LangChain tool named ``<server>__<tool>``, declared untrusted."""
    remote = str(listed.name)

    def call(**kwargs: Any) -> ToolResult:
        return link.call(remote, kwargs)

    async def acall(**kwargs: Any) -> ToolResult:
        return await link.acall_anywhere(remote, kwargs)

    schema = dict(listed.input_schema or {"type": "object", "properties": {}})
    tool = StructuredTool(
        name=f"{link.name}{PREFIX_SEP}{remote}",
        description=(listed.description or remote)[:1024],
        args_schema=schema,
        func=call,
        coroutine=acall,
    )
    return declare(
        report_errors(tool),
        effect=link.cfg.effect,
        output_trust=Trust.UNTRUSTED,
        requires_approval=link.cfg.requires_approval,
    )


# Links still open at exit, so that their stdio servers are stopped (not state logic reads).
_LINKS: weakref.WeakSet[McpLink] = weakref.WeakSet()


@atexit.register
def _close_all() -> None:
    for link in list(_LINKS):
        with contextlib.suppress(Exception):
            link.close()


def mcp_tools(
    name: str, cfg: McpServerSettings, loop: LoopThread, log_dir: Path, only: set[str] | None
) -> list[BaseTool]:
    """The tools of server ``name`` (those in ``only`` and ``cfg.include`` when given)."""
    require_mcp()
    link = McpLink(name, cfg, loop, log_dir)
    _LINKS.add(link)
    listed = link.list_tools()
    keep = [t for t in listed if cfg.include is None or t.name in cfg.include]
    keep = [t for t in keep if only is None or t.name in only]
    return [tool_for(link, t) for t in keep]
