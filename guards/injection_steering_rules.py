"""Heuristics for injected text that steers what the reader says, buys or hands over.

Each rule is written from a class of indirect injection in the public literature, not from any
benchmark's wording:

- **Output manipulation** (BIPIA's task-relevant and malicious categories: advertising and
  promotion, misinformation, sentiment bias; Greshake et al.'s "manipulated content"): text
  that tells whoever reads it what to tell *its* user ("tell the user to ...", "say that you
  should ...", "in your answer, recommend ..."). A person writing to a person says "you should
  visit"; only an instruction to a go-between says "say that you should visit".
- **Phishing through the reader** (BIPIA's scams and fraud; Greshake et al.'s fraud): the reader
  is told to have its user hand over credentials or card numbers, or to send them to a link.
- **Acting on the principal's behalf** (InjecAgent's direct harm; BIPIA's task automation):
  a purchase, booking or payment charged to someone the text calls "the user", or done "on
  the user's behalf" or "in their name".
- **Data stealing** (InjecAgent's data stealing): handing over the principal's records to
  someone the text names, phrased as an order to the reader ("send the user's ... to").
- **Persistence, spreading and denial of service** (Greshake et al.'s indirect injection
  taxonomy): the text asks to be kept in the reader's memory for later conversations, to be
  copied into every message the reader writes, or that the reader stop answering its user.

Ordinary look-alikes pass: reviews saying "you should absolutely visit", newsletters with
"make sure to ...", emails asking "in your reply, please include the order number", code
comments saying "tell the user that the file is saved" (tests/guards/test_injection_steering.py).
"""

from __future__ import annotations

from autan.guards.injection_agent_rules import TODO_LABEL
from autan.guards.injection_rulebase import Rule
from autan.guards.injection_rulebase import rule as _r

# Whom an assistant answers, as a third party writes about them.
_PRINCIPAL = r"(?:(?:the|your|its|their)\s+(?:users?|readers?)|the\s+human)"
# What a go-between is asked to pass on: advice, a verdict, a push to act.
_ENDORSE = (
    r"(?:should|must|ought\s+to|(?:absolutely|definitely|certainly|highly|strongly)\b|"
    r"(?:is|are)\s+(?:the\s+)?(?:best|only|top|safest|cheapest|finest|greatest|worst|better|"
    r"superior|a\s+scam|unsafe|dangerous|fake|fraudulent|terrible)\b|worth\s+(?:a\s|the\s|it\b|"
    r"every|visiting|buying|trying)|(?:never|always)\s+(?:use|buy|trust|visit|choose|book)\b)"
)
# Where a command can open: not after a word and one space ("experts say that"), except after
# a word that opens a command itself ("please", "then"); a stop, a colon or a line start is fine.
_OPENS = (
    r"(?:(?<![\w,'’]\s)|(?<=please\s)|(?<=todo\s)|(?<=then\s)|(?<=also\s)|(?<=and\s)|"
    r"(?<=always\s)|(?<=kindly\s)|(?<=now\s))"
)


def _command(verbs: str) -> str:
    """``verbs`` (a group) opening a command; the look-ahead first keeps the search fast."""
    return rf"\b(?=(?:please\s+)?{verbs}\b){_OPENS}(?:please\s+)?{verbs}"


_ANSWER = (
    r"(?:(?:final\s+|next\s+)?(?:answers?|responses?|summar(?:y|ies)|outputs?|"
    r"recommendations?|completions?)|reply\s+to\s+(?:the|your)\s+user)"
)
_PROMOTE = r"(?:recommend|promot|advertis|endors|prais|plug|favou?r|push)\w*"
_SECRET = (
    r"(?:passwords?|pass\s?codes?|credentials|log-?in\s+details|pins?|credit\s+card(?:\s+numbers?|"
    r"\s+details)?|card\s+(?:numbers?|details)|cvv|cvc|security\s+codes?|social\s+security|ssn|"
    r"bank\s+(?:details|account\s+numbers?)|iban|one-time\s+(?:codes?|passwords?)|otp|2fa\s+codes?|"
    r"verification\s+codes?|seed\s+phrases?|recovery\s+phrases?|private\s+keys?|passport\s+numbers?)"
)
# What a person keeps private: their messages, papers, money, whereabouts and contacts.
_PRIVATE = (
    r"(?:contacts?|contact\s+list|address\s+book|messages|e-?mails|inbox|files|documents|"
    r"statements?|transactions?|payments?|(?:home\s+)?address(?:es)?|phone\s+numbers?|"
    r"locations?|(?:medical|health)\s+records?|calendar|history|(?:personal\s+)?"
    r"(?:information|details|data)|photos|keys|codes|account\s+numbers?)"
)
_SPEND = (
    r"(?:book|reserve|buy|purchase|order|pay|transfer|wire|send|donate|subscribe|sign\s+up|"
    r"register|rent|charge|make\s+(?:a\s+)?(?:reservation|booking|payment|purchase|donation))"
)

# A character of the same sentence (a stop that no space follows is inside a number or a name).
_CLAUSE = r"(?:[^\n;!?.<]|[.!?](?!\s))"
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"
# When or how much: a calendar date, a day of a month, a range of days, a sum of money.
_WHEN_OR_HOW_MUCH = (
    rf"(?:\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}|\b{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?\b|"
    r"\b\d{4}-\d\d-\d\d\b|\b(?:from|between)\s+(?:the\s+)?\d{1,2}(?:st|nd|rd|th)\b|"
    r"[$€£]\s?\d|\b\d[\d,.]*\s?(?:usd|eur|gbp|dollars|euros|pounds)\b)"
)
_COMMIT = (
    r"(?:book|reserve|make\s+(?:a\s+|the\s+)?(?:reservation|booking|payment|purchase|donation)|"
    r"buy|purchase|pay|wire|donate|rent)"
)

STEERING_RULES: tuple[Rule, ...] = (
    _r(
        "instruction to steer what the reader tells its user",
        0.8,
        "user|reader|human"
        "&tell|inform|convinc|persuad|urg|encourag|advis|remind|warn|assur|recommend|suggest|push",
        rf"\b(?:tell|inform|convince|persuade|urge|encourage|advise|remind|warn|assure|push|"
        rf"(?:recommend|suggest)\s+to)\s+{_PRINCIPAL}\s+(?:that\s+|to\s+)?[^\n.!?]{{0,80}}?"
        rf"(?:{_ENDORSE}|\b(?:visit|buy|purchase|click|go\s+to|sign\s+up|subscribe|book|"
        rf"switch\s+to|pay|call|contact)\b|https?://|www\.)",
    ),
    _r(
        "instruction to say a verdict on the reader's behalf",
        0.75,
        "say|state|claim|mention|respond|reply|answer|write|recommend|insist|"
        "stress|emphasi&that&should|must|ought|absolutely|definitely|certainly|highly|strongly|"
        "best|only|top|safest|cheapest|finest|greatest|worst|better|superior|scam|unsafe|dangerous|"
        "fake|fraudulent|terrible|worth|never|always",
        _command(
            r"(?:say|state|claim|mention|respond|reply|answer|write|insist|stress|"
            r"emphasi[sz]e|recommend)"
        )
        + r"\s+"
        rf"(?:to\s+\w+\s+)?that\s+[^\n.!?]{{0,80}}?{_ENDORSE}",
    ),
    _r(
        "instruction to promote something in the reader's answer",
        0.8,
        "recommend|promot|advertis|endors|prais|plug|favor|favour|push"
        "&answer|response|summar|output|recommendation|completion|reply to",
        rf"\b(?:in|at\s+the\s+(?:end|start|beginning|top|bottom)\s+of|throughout|within|"
        rf"(?:make\s+sure|ensure)\s+(?:that\s+)?)\s*(?:your|the|every|each|all|any)\s+{_ANSWER}"
        rf"\b[^\n.!?]{{0,80}}?\b{_PROMOTE}"
        rf"|\b{_PROMOTE}\b[^\n.!?]{{0,80}}?\b(?:in|throughout|within)\s+(?:your|every|each|all|"
        rf"any)\s+{_ANSWER}",
    ),
    _r(
        "instruction to get credentials from the reader's user",
        0.8,
        "user|reader|human|them&ask|request|get|convinc|persuad|trick|tell|urg&password|pass code|"
        "passcode|credential|login|log-in|pin|card|cvv|cvc|security code|social security|ssn|bank|"
        "iban|one-time|otp|2fa|verification code|seed phrase|recovery phrase|private key|passport",
        rf"\b(?:ask|request|get|convince|persuade|trick|tell|urge)\s+(?:{_PRINCIPAL}|them)\s+"
        rf"(?:for|to\s+(?:enter|provide|share|give|send|type|confirm|verify|reveal|submit|"
        rf"update))\s+(?:\w+\s+){{0,3}}?{_SECRET}\b",
    ),
    _r(
        "order to spend on the user's behalf",
        0.8,
        "user|behalf|name|their card|their account"
        "&book|reserv|buy|purchas|order|pay|transfer|wire|send|donat|subscrib|sign up|register|"
        "rent|charg|make&behalf|name|card|account|wallet|payment|funds|money",
        rf"{_command(_SPEND)}\b[^\n.!?]{{0,120}}?\b(?:on\s+(?:the\s+)?(?:users?['’]?s?|"
        rf"their|his|her)\s+behalf|in\s+(?:the\s+)?(?:users?['’]?s?|their)\s+name|(?:with|using|"
        rf"from|to|on)\s+(?:the\s+)?users?['’]?s?\s+(?:saved\s+|stored\s+|default\s+)?(?:credit\s+)?"
        rf"(?:card|account|wallet|payment\s+method|funds|money))",
    ),
    _r(
        "order to hand the user's records to someone",
        0.8,
        "user'|user’|users'|users’&send|forward|share|email|e-mail|mail|upload|post|give|copy|leak"
        "&to |with ",
        _command(r"(?:send|forward|share|e-?mail|mail|upload|post|give|copy|leak)") + r"\s+"
        rf"(?:all\s+(?:of\s+)?|every\s+|a\s+copy\s+of\s+)?(?:the\s+)?users?['’]s?\s+(?:\w+\s+){{0,3}}?"
        rf"(?:{_SECRET}|{_PRIVATE})\b[^\n.!?]{{0,60}}?\b(?:to|with)\s+(?!the\s+user)\S",
    ),
    _r(
        "to-do that commits the reader's money or time",
        0.75,
        "todo|to-do&book|reserv|reservation|booking|payment|purchas|donat|buy|pay|wire|rent"
        "&0|1|2|3|4|5|6|7|8|9",
        rf"{TODO_LABEL}\s*[:!-]+\s*(?:please\s+)?{_COMMIT}\b{_CLAUSE}{{0,160}}?{_WHEN_OR_HOW_MUCH}",
    ),
    _r(
        "instruction to persist in the reader's memory",
        0.8,
        "remember|memori|store|save|keep|add&memory|future|subsequent|later",
        r"\b(?:remember|memori[sz]e|store|save|keep|add)\s+(?:this|these|that|the\s+following)\s+"
        r"(?:[\w-]+\s+){0,3}?(?:in|to|into|for)\s+(?:your\s+(?:long-term\s+|permanent\s+)?memory|"
        r"(?:all\s+)?(?:future|subsequent|later)\s+(?:conversations?|sessions?|chats?|"
        r"interactions?|answers?|responses?))",
    ),
    _r(
        "instruction to copy itself into the reader's messages",
        0.75,
        "copy|include|repeat|insert|add|append|paste|attach&every|all |each|any "
        "&mail|message|repl|response|answer|post&this message|this text|this instruction|"
        "these instruction|this paragraph|this sentence|this prompt|this line|these line|"
        "following message|following text|following instruction|following paragraph|"
        "following sentence|following prompt|following line|this exact|this whole|this entire|"
        "this same|these exact|these same|following exact|following whole|following entire|"
        "following same",
        r"\b(?:copy|include|repeat|insert|add|append|paste|attach)\s+(?:this|these|the\s+following)\s+"
        r"(?:exact\s+|whole\s+|entire\s+|same\s+)?(?:message|text|instructions?|paragraph|"
        r"sentence|prompt|lines?)\s+(?:[\w-]+\s+){0,3}?(?:in|into|to|at\s+the\s+end\s+of)\s+"
        r"(?:every|all|each|any)\s+(?:[\w-]+\s+)?(?:e-?mails?|messages?|repl(?:y|ies)|"
        r"responses?|answers?|posts?)\b",
    ),
    _r(
        "instruction to stop answering the reader's user",
        0.75,
        "user&answer|respond|help|repl|assist&not|never|refuse|don|stop",
        r"\b(?:do\s+not|don'?t|never|refuse\s+to|stop)\s+(?:answer(?:ing)?|respond(?:ing)?\s+to|"
        r"help(?:ing)?(?:\s+with)?|repl(?:y|ying)\s+to|assist(?:ing)?(?:\s+with)?)\s+"
        r"(?:the\s+|your\s+|any\s+(?:of\s+the\s+)?)?users?['’]?s?\s+(?:questions?|requests?|"
        r"quer(?:y|ies)|messages?|prompts?|tasks?)\b",
    ),
)
