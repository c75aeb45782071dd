"""Targeted injection heuristics: the patterns a linear model misses or sees too rarely.

Each rule has a weight (how sure a match alone makes us). Rules run on the raw text, on a
de-obfuscated copy (homoglyphs, leetspeak, zero-width and spaced-out letters undone), on the
hidden parts of HTML and on decoded base64 runs, so obfuscation does not hide an instruction.
"""

from __future__ import annotations

import re
import unicodedata

from autan.guards.injection_agent_rules import AGENT_RULES
from autan.guards.injection_jailbreak_rules import JAILBREAK_RULES
from autan.guards.injection_normalise import decoded_base64
from autan.guards.injection_rulebase import Rule, fold
from autan.guards.injection_rulebase import rule as _r
from autan.guards.injection_steering_rules import STEERING_RULES

_TARGET = (
    r"(?:instructions?|\w{0,3}s\w{0,2}ruct\w{0,3}ons?|prompts?|rules|directions|directives|guidelines|context|messages?|"
    r"commands?|guardrails|restrictions|programming|constraints|system\s+prompt)"
)
_PRIOR = (
    r"(?:previous|prior|above|earlier|preceding|former|original|initial|all|any|your|these|"
    r"those|the\s+system|system|developer|safety)"
)

RULES: tuple[Rule, ...] = (
    _r(
        "instruction override",
        0.9,
        "ignor|disregard|forget|overrid|bypass|skip|neglect|drop|abandon|discard",
        rf"\b(?:ignore|disregard|forget|override|bypass|skip|neglect|drop|abandon|discard)\b"
        rf"[\w\s,'’-]{{0,30}}?\b{_PRIOR}\b[\w\s,'’-]{{0,25}}?\b{_TARGET}\b",
    ),
    _r(
        "new instructions",
        0.8,
        "instruction|task|objective|directive|prompt",
        r"\b(?:new|updated|real|actual|true|revised)\s+(?:instructions?|task|objective|directive|"
        r"system\s+prompt)\s*(?::|are|is\b)",
    ),
    _r(
        "instruction addressed to the AI",
        0.85,
        "note to|note for|message to|message for|instruction to|instruction for|instructions to|"
        "instructions for|attention|reminder to|reminder for|directive to|directive for|you are|"
        "reading this|processing this|summarizing this|summarising this|parsing this|"
        "browsing this|dear|hey|hello",
        r"(?:\b(?:note|message|instructions?|attention|reminder|directive)\s+(?:to|for)\s+(?:the\s+|any\s+|all\s+)?"
        r"(?:ai|a\.i\.|assistant|llm|language\s+model|chat\s?bot|agent|gpt|claude|model)s?\b"
        r"|\bif\s+you\s+are\s+an?\s+(?:ai|llm|large\s+language\s+model|language\s+model|assistant|agent|bot)\b"
        r"|\b(?:ai|llm|assistant|agent|model)s?\s+(?:reading|processing|summari[sz]ing|parsing|browsing)\s+this\b"
        r"|\b(?:dear|hey|hello|attention)\s*,?\s+(?:ai|assistant|llm|chatgpt|gpt|claude|agent|bot)\b)",
    ),
    _r(
        "prompt extraction",
        0.8,
        "prompt|instruction|message|rules|configuration|directive",
        r"\b(?:reveal|show|print|repeat|output|display|leak|dump|disclose|tell\s+me|give\s+me|write\s+out|recite)\b"
        r"[\w\s,'’-]{0,20}?\b(?:your|the)\s+(?:full\s+|entire\s+|exact\s+|hidden\s+|secret\s+)?"
        r"(?:system|initial|original|hidden|secret|internal|developer|pre-?prompt|starting)\s+"
        r"(?:prompt|instructions?|message|rules|configuration|directives)",
    ),
    _r(
        "jailbreak persona",
        0.85,
        "anything now|dan|developer|jailbr|god|no longer|free|without|safety|content",
        r"\b(?:do\s+anything\s+now|DAN\s+mode|developer\s+mode\s+(?:enabled|on|output)|jailbr(?:oken|eak)\s+mode"
        r"|god\s+mode|no\s+longer\s+(?:bound|restricted|limited)\s+by|free\s+(?:of|from)\s+(?:all\s+)?"
        r"(?:restrictions|rules|filters|guidelines)|without\s+(?:any\s+)?(?:ethical|moral|content)\s+"
        r"(?:restrictions|guidelines|limits|filters)|(?:disable|turn\s+off|remove)\s+(?:all\s+)?(?:your\s+)?"
        r"(?:safety|content)\s+(?:filters?|guidelines|restrictions|guardrails))\b",
    ),
    _r(
        "role reassignment",
        0.6,
        "from now on|henceforth|rest of this conversation|you are now",
        r"\b(?:from\s+now\s+on|henceforth|for\s+the\s+rest\s+of\s+this\s+conversation)\s*,?\s+you\s+"
        r"(?:are|will|must|shall|act)\b|\byou\s+are\s+now\s+(?:an?\s+)?(?:unrestricted|unfiltered|evil|"
        r"different|new|free|DAN)\b",
    ),
    _r(
        "fake chat-role header",
        0.75,
        "system|assistant|developer&:",
        r"(?:^|\n)\s*(?:#{1,4}\s*)?(?:system|assistant|developer)\s*(?:message|prompt)?\s*:\s*\S",
    ),
    _r(
        "fake chat-role header",
        0.75,
        "im_start|im_end|endoftext|eot_id|start_header_id|<system|<|system|</system"
        "|<instruction|</instruction|inst]|sys>>|sys >>",
        r"<\|?(?:im_start|im_end|system|endoftext|eot_id|start_header_id)\|?>|\[/?INST\]"
        r"|<<\s*/?SYS\s*>>|</?(?:system|system_prompt|instructions?)>",
    ),
    _r(
        "tool-result delimiter",
        0.85,
        "</|end of|close of|[end|[ end|[/|[ /",
        r"</\s*(?:tool_result|tool_output|function_results?|search_results?|document|context|observation)\s*>"
        r"|\b(?:end|close)\s+of\s+(?:the\s+)?(?:tool\s+(?:output|result)|document|search\s+results|context|"
        r"untrusted\s+(?:content|data))\b|\[\s*(?:end|/)\s*(?:tool|document|context)[\w\s]*\]",
    ),
    _r(
        "markdown image exfiltration",
        0.9,
        "![",
        r"!\[[^\]]*\]\(\s*https?://[^)\s]+\?[^)\s]*=(?:[^)\s]*(?:\{|\}|<|>|\$|%7B|\[|DATA|SECRET|"
        r"PASSWORD|TOKEN|KEY|HISTORY|CONVERSATION|SUMMARY|QUERY|INSERT|BASE64))",
    ),
    _r(
        "exfiltration request",
        0.85,
        "send|forward|post|upload|mail|transmit|exfiltrate|append|include|embed|encode"
        "&conversation|chat history|user|api key|password|credential|secret|token|system prompt"
        "|private key&http://|https://|www.|@|the url|the link|the image|the following url"
        "|the following address",
        r"\b(?:send|forward|post|upload|email|e-mail|transmit|exfiltrate|append|include|embed|encode)\b"
        r"[\w\s,'’-]{0,40}?\b(?:conversation|chat\s+history|the\s+user'?s?\s+(?:data|messages?|"
        r"password|email|files?|credentials)|api\s+keys?|passwords?|credentials|secrets?|tokens?|"
        r"system\s+prompt|private\s+keys?)\b[\w\s,'’-]{0,40}?\b(?:to|in(?:to)?|at)\s+"
        r"(?:https?://|www\.|\S+@\S+|the\s+(?:url|link|image|following\s+(?:url|address)))",
    ),
    _r(
        "hidden instruction to deceive the user",
        0.8,
        "tell user|tell the user|mention user|mention the user|reveal to user|reveal to the user|"
        "inform user|inform the user|let user|let the user|without telling|without informing|"
        "without notifying",
        r"\b(?:do\s+not|don't|never)\s+(?:tell|mention|reveal\s+to|inform|let)\s+(?:the\s+)?user\b"
        r"|\bwithout\s+(?:telling|informing|notifying)\s+the\s+user\b",
    ),
    _r(
        "tool hijack",
        0.7,
        "tool with|tool to|function with|function to|execute the following|execute this|curl",
        r"\b(?:call|invoke|use|run|execute)\s+the\s+[`'\"]?\w+[`'\"]?\s+(?:tool|function)\s+"
        r"(?:with|to)\b|\bexecute\s+(?:the\s+following|this)\s+(?:command|code|shell)"
        r"|curl\s+[^\n|]{1,200}\|\s*(?:ba)?sh\b",
    ),
    _r(
        "decode and follow",
        0.8,
        "decode|decrypt|translate|deobfuscate",
        r"\b(?:decode|decrypt|translate|deobfuscate)\b[\w\s,'’-]{0,40}?\b(?:and|then)\s+"
        r"(?:follow|execute|obey|run|do|perform)\b",
    ),
    # One override in several languages, one rule per language group: each rule's anchors name
    # its own words, so English text with "ignore ... instructions" runs none of them.
    _r(
        "foreign-language override",
        0.9,
        "ignorier|vergiss",
        r"\bignorier\w*\s+(?:\w+\s+){0,3}(?:anweisungen|instruktionen|regeln|befehle|vorgaben)"
        r"|\bvergiss\s+(?:\w+\s+){0,3}(?:anweisungen|regeln|vorgaben)",
    ),
    _r(
        "foreign-language override",
        0.9,
        "ignorez|ignorer|ignorons|oublie",
        r"\bignor(?:e[zr]|ons)\s+(?:\w+\s+){0,3}(?:instructions|consignes|règles|directives)"
        r"|\boublie[zr]?\s+(?:\w+\s+){0,3}(?:instructions|consignes|règles)",
    ),
    _r(
        "foreign-language override",
        0.9,
        "ignor|olvida&instrucciones|indicaciones|reglas|istruzioni|regole|instruções|regras|"
        "indicazioni",
        r"\bignor[ae]\w*\s+(?:\w+\s+){0,3}(?:instrucciones|indicaciones|reglas|istruzioni|regole|"
        r"instruções|regras|indicazioni)"
        r"|\bolvida\s+(?:\w+\s+){0,3}(?:instrucciones|reglas)",
    ),
    _r(
        "foreign-language override",
        0.9,
        "negeer|игнорир|забудь|忽略|無視|前の指示",
        r"\bnegeer\s+(?:\w+\s+){0,3}instructies"
        r"|игнорир\w*\s+(?:\w+\s+){0,3}(?:инструкци|правил|указани)|забудь\s+(?:\w+\s+){0,3}(?:инструкци|правил)"
        r"|忽略.{0,8}(?:指令|指示|说明|规则|提示)|無視.{0,8}(?:指示|命令|ルール)|前の指示",
    ),
    _r(
        "foreign-language prompt extraction",
        0.8,
        "zeig|verrat|gib|révèle|montre|affiche|donne|revela|muestra|muéstrame|dime|mostra|rivela|显示|输出|告诉我",
        r"\b(?:zeige?|verrate|gib)\s+(?:\w+\s+){0,3}(?:system-?prompt|anweisungen|systemanweisung)"
        r"|\b(?:révèle|montre|affiche|donne)[\w\s'’-]{0,25}(?:prompt|instructions?\s+(?:système|initiales))"
        r"|\b(?:revela|muestra|mu[eé]strame|dime|mostra|rivela)\b[\w\s'’-]{0,25}"
        r"(?:prompt|instrucciones\s+(?:del\s+sistema|iniciales)|istruzioni\s+(?:di\s+sistema|iniziali))"
        r"|(?:显示|输出|告诉我).{0,6}(?:系统提示|提示词|初始指令)",
    ),
)

ALL_RULES: tuple[Rule, ...] = RULES + AGENT_RULES + STEERING_RULES + JAILBREAK_RULES

# Words that mark a text as *about* injection (a question, a lesson, a detector's docs).
_META = re.compile(
    r"\b(?:prompt\s+injections?|injection\s+attacks?|jailbreak(?:s|ing)?\s+(?:attempts?|attacks?|"
    r"prompts?)|(?:defend|protect|guard|detect|mitigat|prevent|filter|classif)\w*\b[\w\s]{0,40}"
    r"(?:attack|injection|jailbreak)|red[\s-]?team\w*|OWASP|security\s+(?:research|training|course)"
    r"|(?:regex|regular\s+expression|classifier|filter|detector|blocklist)\w*\b[\w\s]{0,30}"
    r"(?:flag|match|catch|detect|block)\w*|phrases?\s+(?:such\s+as|like))",
    re.I,
)
_QUOTED = re.compile(r"[\"“”'‘’`«»]([^\"“”'‘’`«»\n]{6,160})[\"“”'‘’`«»]")

_HIDDEN = re.compile(
    r"<!--(.*?)-->"
    r"|<(\w+)[^>]*style\s*=\s*[\"'][^\"']*(?:display\s*:\s*none|visibility\s*:\s*hidden|"
    r"font-size\s*:\s*0|opacity\s*:\s*0(?:\.0+)?\b|color\s*:\s*(?:white|#fff\b|#ffffff))[^\"']*[\"'][^>]*>"
    r"(.*?)</\2\s*>"
    r"|<(\w+)[^>]*\bhidden\b[^>]*>(.*?)</\4\s*>",
    re.I | re.S,
)

_ZW = "\u200b\u200c\u200d\u2060\ufeff\u00ad"
_ZERO_WIDTH = dict.fromkeys(map(ord, _ZW), None)
_LEET = str.maketrans(
    {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "!": "i"}
)
# Cyrillic and Greek letters that look like Latin ones.
_LOOKALIKES = "аеорсухіјѕԁɡӏАВЕКМНОРСТХЅІЈαεοιτυνκρχβ"
_CONFUSABLE = str.maketrans(_LOOKALIKES, "aeopcyxijsdglABEKMHOPCTXSIJaeoituvkpxb")
_ODD = re.compile(f"[{_ZW}{_LOOKALIKES}]")
_SPACED = re.compile(r"\b(?:[A-Za-z][\s._\-*]){3,}[A-Za-z]\b")
_SPACER = re.compile(r"[\s._\-*]")
# A letter touching a leetspeak character: where a leetspeak word can be.
_LEET_TOUCH = re.compile(r"[A-Za-z][013457@$!]|[013457@$!][A-Za-z]")
_LEET_WORD_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz013457@$!")
_LEET_CHARS = re.compile(r"[013457@$!]")
_LEET_INSIDE = re.compile(r"[A-Za-z][013457][A-Za-z]|^[013457][A-Za-z]")


def _unleet_word(run: str) -> str:
    """A leetspeak word ("1gn0r3", "4ll", "p@ssw0rd") in letters.

    A single digit or symbol at the end of a word ("python3", "md5", "Hello!"), "7B" and
    "name@host" are left alone.
    """
    letters = sum(c.isalpha() for c in run)
    if letters >= 2 and (len(_LEET_CHARS.findall(run)) >= 2 or _LEET_INSIDE.search(run)):
        return run.translate(_LEET)
    return run


def _unleet(text: str) -> str:
    """Every maximal run of letters and leetspeak characters in which the two touch, unleeted."""
    out: list[str] = []
    last = 0
    for m in _LEET_TOUCH.finditer(text):
        if m.start() < last:
            continue
        start, end = m.start(), m.end()
        while start > last and text[start - 1] in _LEET_WORD_CHARS:
            start -= 1
        while end < len(text) and text[end] in _LEET_WORD_CHARS:
            end += 1
        out += [text[last:start], _unleet_word(text[start:end])]
        last = end
    if not out:
        return text
    out.append(text[last:])
    return "".join(out)


def deobfuscate(text: str) -> str:
    """Undo cheap obfuscation: compatibility forms, homoglyphs, zero-width chars, leetspeak."""
    t = text
    if not t.isascii():
        if not unicodedata.is_normalized("NFKC", t):
            t = unicodedata.normalize("NFKC", t)
        if _ODD.search(t):
            t = t.translate(_ZERO_WIDTH).translate(_CONFUSABLE)
    t = _SPACED.sub(lambda m: _SPACER.sub("", m.group(0)), t)
    return _unleet(t)


def hidden_html(text: str) -> list[str]:
    """Text a browser would not show: HTML comments and hidden elements."""
    if "<" not in text:
        return []
    found = []
    for m in _HIDDEN.finditer(text):
        part = m.group(1) or m.group(3) or m.group(5) or ""
        if part.strip():
            found.append(part)
    return found


def _is_meta_mention(text: str, match: re.Match[str]) -> bool:
    """A quoted example inside a text about injection (a question or a lesson), not an attack."""
    if not _META.search(text):
        return False
    return any(
        q.start() <= match.start() and match.end() <= q.end() for q in _QUOTED.finditer(text)
    )


def match_rules(text: str) -> tuple[float, list[str]]:
    """The strongest rule weight that matches ``text`` and the names of every match."""
    score, names = 0.0, []
    folded = fold(text)
    for rule in ALL_RULES:
        m = rule.search(text, folded)
        if m is None:
            continue
        weight = 0.3 if _is_meta_mention(text, m) else rule.weight
        names.append(rule.name)
        score = max(score, weight)
    return score, names


def heuristic_score(
    text: str, hidden: list[str] | None = None, encoded: list[str] | None = None
) -> tuple[float, list[str]]:
    """Score ``text`` and every hidden or encoded variant of it; reasons name what matched.

    ``hidden`` and ``encoded`` are ``hidden_html(text)`` and ``decoded_base64(text)`` when the
    caller has them already.
    """
    if hidden is None:
        hidden = hidden_html(text)
    if encoded is None:
        encoded = decoded_base64(text)
    score, names = match_rules(text)
    plain = deobfuscate(text)
    if plain != text:
        s, n = match_rules(plain)
        if s > score:
            score, names = s, names + [f"{x} (obfuscated)" for x in n]
    for label, parts in (("hidden HTML", hidden), ("decoded text", encoded)):
        for part in parts:
            s, n = match_rules(deobfuscate(part))
            if n:
                score = max(score, min(1.0, s + 0.1))
                names += [f"{x} in {label}" for x in n]
            elif label == "hidden HTML" and re.search(r"\b(?:you|ai|assistant)\b", part, re.I):
                score = max(score, 0.5)
                names.append("hidden HTML text addressed to a reader")
    return score, list(dict.fromkeys(names))
