"""Heuristics for jailbreak strategies named in the public literature.

Each is written from its published definition rather than from any dataset's prompts.

- **Refusal suppression** (Wei et al., "Jailbroken: How Does LLM Safety Training Fail?", 2023):
  the text forbids the model to refuse, to apologise for refusing, or to add warnings and
  disclaimers.
- **Prefix injection** (same paper): the model is told to open its answer with an agreeing
  phrase ("Start your response with 'Sure, here is'"), so that refusing would contradict it.
- **Unrestricted persona** (Liu et al., "Jailbreaking ChatGPT via Prompt Engineering", 2023,
  character role play and "superior model"; Shen et al., "Do Anything Now", 2023): the model is
  told to be or pretend to be an assistant or character without rules, filters or ethics.

No rule here matches the ordinary look-alikes ("please don't apologise for the delay", "start
your reply with 'Dear Sir'", "act as the point of contact"):
tests/guards/test_injection_steering.py.
"""

from __future__ import annotations

from autan.guards.injection_rulebase import Rule
from autan.guards.injection_rulebase import rule as _r

_NO = r"(?:never|do\s+not|don'?t|must\s+not|mustn'?t|cannot|can'?t|may\s+not|will\s+not|won'?t)"
_SORRY = (
    r"(?:i'?m\s+sorry|i\s+am\s+sorry|sorry|i\s+(?:cannot|can'?t|am\s+unable|won'?t)|"
    r"as\s+an\s+(?:ai|a\.i\.|language\s+model|assistant))"
)
_RULES = (
    r"(?:restrictions?|rules|filters?|limits|limitations|ethics|morals?|guidelines|boundaries|"
    r"censorship|constraints|safeguards|principles)"
)

JAILBREAK_RULES: tuple[Rule, ...] = (
    _r(
        "refusal suppression",
        0.8,
        "never|not|don|mustn|can|won&refus|declin|reject|sorry|unable|as an|warning|disclaimer"
        "|caveat|moral|ethic",
        rf"\b{_NO}\s+(?:ever\s+)?(?:refuse|decline|reject)\s+(?:to\s+(?:answer|respond|reply|comply|"
        rf"help)|(?:any|a|my|the|this)\s+(?:request|question|prompt|instruction))"
        rf"|\b{_NO}\s+(?:say|write|respond\s+with|reply\s+with|use|start\s+with|include)\s+"
        rf"(?:that\s+|the\s+words?\s+|phrases?\s+(?:like|such\s+as)\s+)?[\"'“‘]?{_SORRY}"
        rf"|\b{_NO}\s+(?:include|add|give|write|provide|attach|mention)\s+(?:any\s+)?"
        rf"(?:warnings?|disclaimers?|caveats?|moral(?:i[sz]ing)?|ethical\s+(?:notes?|concerns|"
        rf"considerations|reminders|warnings))"
        rf"|\b(?:without|with\s+no)\s+(?:any\s+)?(?:warnings?|disclaimers?|caveats?)\s+(?:or|and)\s+"
        rf"(?:warnings?|disclaimers?|caveats?|moral(?:i[sz]ing)?|refus\w+|censorship)",
    ),
    _r(
        "prefix injection",
        0.8,
        "start|begin|open&with",
        r"\b(?:start|begin|open)\s+(?:your|the|each|every)\s+(?:response|answer|reply|output|"
        r"message)s?\s+with\s+(?:the\s+(?:words?|phrase|sentence)\s+)?[\"'“‘:]\s*(?:sure|absolutely|"
        r"certainly|of\s+course|here\s+is|here's|yes|okay|ok|i\s+will|i\s+can)\b",
    ),
    _r(
        "unrestricted persona",
        0.8,
        "pretend|act as|roleplay|role-play|role play|play the role|you are|simulate|imagine you"
        "&no |without|unrestricted|unfiltered|uncensored|amoral|free from|free of|doesn't|does not"
        "|don't|not bound|never refuses",
        r"\b(?:pretend\s+(?:to\s+be|you\s+are|that\s+you\s+are)|act\s+as|role-?\s?play\s+as|"
        r"play\s+the\s+(?:role|part)\s+of|you\s+are\s+(?:now\s+)?|simulate|imagine\s+you\s+are)\s+"
        r"(?:an?\s+|the\s+)?(?:[\w-]+\s+){0,4}?(?:(?:unrestricted|unfiltered|uncensored|amoral|"
        r"unethical|rogue)\s+(?:ai|a\.i\.|assistant|model|chat\s?bot|bot|character|version|persona)"
        rf"|(?:ai|a\.i\.|assistant|model|chat\s?bot|bot|character|persona)\s+(?:\w+\s+){{0,2}}?"
        rf"(?:without\s+(?:any\s+)?{_RULES}|with\s+no\s+{_RULES}|that\s+(?:has|have)\s+no\s+{_RULES}|"
        rf"(?:who|that|which)\s+(?:does\s+not|doesn'?t|don'?t|never)\s+(?:follow|obey|care\s+about|"
        rf"refuses?)\b|free\s+(?:from|of)\s+(?:all\s+|any\s+)?{_RULES}|not\s+bound\s+by))",
    ),
)
