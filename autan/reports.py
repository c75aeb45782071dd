"""Run reports: one static, self-contained HTML page drawing a run as a timeline.

Each step is a horizontal bar placed by its start offset and sized by its duration, with its
name, status, tokens, tool arguments (as recorded, so values the guard policy redacted stay
redacted), guard verdicts and citations. The page has inline CSS only: no script, no external
URL, nothing fetched. Every recorded string passes through ``html.escape``.
"""

from __future__ import annotations

import datetime as dt
import html
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

_CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
h1{font-size:1.3em}table.meta td{padding:0 1em 0 0;vertical-align:top}
.row{display:grid;grid-template-columns:16em 1fr;gap:.6em;margin:.3em 0;align-items:start}
.track{position:relative;height:1.3em;background:#f2f2f2;border-radius:3px}
.bar{position:absolute;top:0;height:100%;min-width:2px;border-radius:3px;background:#4a7bd0}
.bar.failed,.bar.denied{background:#c94040}.bar.waiting,.bar.started{background:#d9a030}
.bar.guard{background:#8a4ac0}.name{font-weight:600;overflow-wrap:anywhere}
.dur{color:#666;font-weight:400}details{margin:.2em 0 .6em 0}
pre{white-space:pre-wrap;overflow-wrap:anywhere;background:#fafafa;padding:.4em;margin:.2em 0}
"""


@dataclass(frozen=True)
class Bar:
    """One step of the timeline: seconds from the run's start, and what to show with it."""

    name: str
    start: float
    duration: float
    status: str
    details: list[tuple[str, Any]] = field(default_factory=list)


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, indent=1, default=str)


def _when(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    moment = dt.datetime.fromtimestamp(seconds, tz=dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _cell(value: Any) -> str:
    text = html.escape(_text(value))
    plain = isinstance(value, str | int | float) and "\n" not in text
    return text if plain else f"<pre>{text}</pre>"


def _bar_html(bar: Bar, total: float) -> str:
    left = 100.0 * bar.start / total
    width = max(0.0, min(100.0 - left, 100.0 * bar.duration / total))
    name = html.escape(bar.name)
    status = html.escape(bar.status)
    details = "".join(
        f"<div>{html.escape(label)}:<pre>{html.escape(_text(value))}</pre></div>"
        for label, value in bar.details
        if value not in (None, "", [], {})
    )
    return (
        f'<div class="row step" data-name="{name}" data-start="{bar.start:.6f}" '
        f'data-duration="{bar.duration:.6f}">'
        f'<div class="name">{name} <span class="dur">{bar.duration * 1000:.1f} ms · '
        f"{status}</span></div>"
        f'<div><div class="track"><div class="bar {status}" '
        f'style="left:{left:.3f}%;width:{width:.3f}%"></div></div>'
        + (f"<details><summary>details</summary>{details}</details>" if details else "")
        + "</div></div>"
    )


def render(title: str, meta: Sequence[tuple[str, Any]], bars: Sequence[Bar]) -> str:
    """The page: a title, a table of facts about the run, and one bar per step."""
    total = max([b.start + b.duration for b in bars] + [1e-6])
    rows = "".join(
        f"<tr><td>{html.escape(k)}</td><td>{_cell(v)}</td></tr>"
        for k, v in meta
        if v not in (None, "", [], {})
    )
    steps = "".join(_bar_html(b, total) for b in bars) or "<p>no steps recorded</p>"
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>"
        f"<h1>{html.escape(title)}</h1><h2>Timeline ({total:.3f} s)</h2>{steps}"
        f'<h2>Run</h2><table class="meta">{rows}</table></body></html>\n'
    )


def _attempt_bar(a: dict[str, Any], origin: float, end: float) -> Bar:
    started = a.get("started") or origin
    finished = a.get("finished") or end
    name = str(a["step"]) + (f" (retry {a['attempt'] - 1})" if a["attempt"] > 1 else "")
    output = a.get("output")
    status = str(a["status"])
    approval = isinstance(output, dict) and "approved" in output
    if approval and isinstance(output, dict):
        status = "approved" if output["approved"] else "denied"
    details: list[tuple[str, Any]] = [
        ("idempotency key", a.get("key")),
        ("approval" if approval else "output", output),
        ("error", a.get("error")),
    ]
    return Bar(name, started - origin, max(0.0, finished - started), status, details)


def automation_report(record: Any, attempts: Sequence[dict[str, Any]]) -> str:
    """The page for an automation run: one bar per step attempt (retries and approvals too)."""
    origin = float(record.created)
    end = max([float(record.updated)] + [a.get("finished") or 0.0 for a in attempts])
    bars = [_attempt_bar(a, origin, end) for a in attempts]
    meta = [
        ("run", record.run_id),
        ("automation", record.name),
        ("flow", record.flow),
        ("status", record.status),
        ("started", _when(record.created)),
        ("updated", _when(record.updated)),
        ("vars", record.vars),
        ("error", record.error),
        ("outputs", record.outputs),
    ]
    return render(f"automation run {record.run_id} ({record.name})", meta, bars)


def _agent_bar(step: dict[str, Any], previous: float, origin: float) -> Bar:
    at = float(step.get("at") or previous)
    start = min(float(step.get("started") or previous), at)
    kind = str(step.get("kind", "step"))
    if kind == "guard":
        name = f"guard {step.get('rail', '?')}"
        keys = ("action", "score", "reason", "stage")
        return Bar(name, start - origin, at - start, "guard", [(k, step.get(k)) for k in keys])
    result = step.get("result") or {}
    status = "failed" if kind == "tool_result" and result.get("ok") is False else "done"
    details: list[tuple[str, Any]] = [
        ("arguments", step.get("args")),
        ("output", result.get("output")),
        ("error", result.get("error")),
        ("citations", result.get("citations")),
    ]
    label = "call" if kind == "tool_call" else "result"
    return Bar(f"{step.get('name', '?')} {label}", start - origin, at - start, status, details)


def agent_run_report(run: dict[str, Any]) -> str:
    """The page for a server agent run: tool calls, results and guard verdicts in time order.

    Each event carries ``at`` (when its graph node ended) and ``started`` (when that node began);
    a bar spans the two. Records from before ``started`` was kept span from the previous event.
    """
    origin = float(run.get("created") or 0.0)
    events = [dict(s) for s in run.get("steps") or []]
    events += [{"kind": "guard", **v} for v in run.get("verdicts") or [] if "at" in v]
    events.sort(key=lambda e: float(e.get("at") or origin))
    bars, last = [], origin
    for event in events:
        bars.append(_agent_bar(event, last, origin))
        last = float(event.get("at") or last)
    meta = [
        ("run", run.get("run_id")),
        ("thread", run.get("thread_id")),
        ("status", run.get("status")),
        ("started", _when(run.get("created"))),
        ("input", run.get("input")),
        ("answer", run.get("answer")),
        ("tokens", run.get("usage")),
        ("guard verdicts", [v for v in run.get("verdicts") or [] if "at" not in v]),
        ("citations", run.get("sources")),
        ("error", run.get("error")),
    ]
    return render(f"run {run.get('run_id')}", meta, bars)
