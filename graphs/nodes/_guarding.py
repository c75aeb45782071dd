"""What every guard node does with a verdict: record it, and turn ``escalate`` into a question.

The helpers live with the guarded tool runner (``autan.tools.guarded``), which the automation
engine shares; the graph's nodes import them from here.
"""

from __future__ import annotations

from autan.tools.guarded import record, refusal, settle

__all__ = ["record", "refusal", "settle"]
