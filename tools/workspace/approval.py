"""Approval of workspace edits: which tools wait for a human, and the diff the human sees.

An editing tool carries a preview function in its metadata. The approval step (the agent graph's
``approve`` node, or an automation's tool step) shows the preview's diff, and on approval pins the
call to the content hashes it showed (``base``): if a file changes before the call runs, the call
reports a conflict instead of writing over the newer content.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from langchain_core.tools import BaseTool

from autan.config import Settings
from autan.errors import AutanError

PREVIEW_KEY = "autan.preview"
EDIT_TOOLS = ("edit_file", "write_file", "apply_diff")


def gated(settings: Settings) -> frozenset[str]:
    """Tools a model's calls to which wait for a human: settings, plus edits by default."""
    extra = EDIT_TOOLS if settings.files.approve_edits else ()
    return frozenset(settings.requires_approval) | frozenset(extra)


def preview(tool: BaseTool, args: Mapping[str, Any]) -> dict[str, Any] | None:
    """What the call would change (``diff``, ``base``, ``files``), or why it cannot run."""
    make = (tool.metadata or {}).get(PREVIEW_KEY)
    if make is None or args.get("dry_run"):
        return None
    try:
        shown: dict[str, Any] = make(dict(args))
    except AutanError as exc:
        return {"error": exc.one_line()}
    return shown


def pinned(args: Mapping[str, Any], shown: Mapping[str, Any] | None) -> dict[str, Any]:
    """The call's arguments bound to the content the human reviewed."""
    if not shown or "base" not in shown or args.get("base"):
        return dict(args)
    return {**args, "base": dict(shown["base"])}
