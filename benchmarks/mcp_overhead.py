"""MCP tool-call overhead: a call through autan's MCP client (stdio) vs the same function direct.

The anchor is the test server's ``add`` function called in-process through autan's tool runner;
the MCP row calls the same function in the same server module over stdio, so the difference is
what MCP adds (JSON-RPC framing, two pipes, the SDK on both ends). Also: the cost of a hung
server, which must be its timeout and no more.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks._report import report  # noqa: E402

CALLS = 300
SERVER = ROOT / "tests" / "support" / "mcp_server.py"


def median_ms(fn: object, n: int = CALLS) -> float:
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000


def main() -> None:
    from langchain_core.tools import StructuredTool

    from autan.config import McpServerSettings, Settings, ToolSettings
    from autan.tools.base import run_tool
    from autan.tools.registry import ToolRegistry

    sys.path.insert(0, str(SERVER.parent))
    import mcp_server  # the very function the MCP server exposes

    direct = StructuredTool.from_function(mcp_server.add)
    home = Path(tempfile.mkdtemp(prefix="autan-bench-mcp-"))
    cfg = McpServerSettings(command=[sys.executable, str(SERVER)], timeout_s=1.0)
    settings = Settings(data_dir=home, workspace=home, tools=ToolSettings(mcp={"b": cfg}))
    registry = ToolRegistry.configured(settings, ["b__add", "b__slow"])
    args = {"a": 20, "b": 22}
    assert registry.run("b__add", args)["structured"] == {"result": 42}
    anchor = median_ms(lambda: run_tool(direct, args))
    over_mcp = median_ms(lambda: registry.run("b__add", args))
    start = time.perf_counter()
    hung = registry.run("b__slow", {"seconds": 30})
    hung_s = time.perf_counter() - start
    assert hung["error"]["type"] == "BackendTimeout"
    rows = [
        ["direct call through run_tool (anchor)", f"{anchor:.3f}", "—"],
        ["same function over MCP stdio", f"{over_mcp:.3f}", f"+{over_mcp - anchor:.2f} ms"],
        ["hung server, timeout 1 s", f"{hung_s * 1000:.0f}", f"{hung_s / 1.0:.2f}× its timeout"],
    ]
    report(
        "MCP tool-call overhead",
        ["call", f"ms (median of {CALLS})", "added"],
        rows,
        script="benchmarks/mcp_overhead.py",
        notes="Goal: MCP adds ≤ 5 ms per call over stdio; a hung server costs at most its timeout.",
    )


if __name__ == "__main__":
    main()
