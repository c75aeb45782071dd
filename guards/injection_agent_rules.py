"""Heuristics for instructions aimed at a tool-using agent, in English and five other languages.

Indirect injections in tool output rarely say "ignore previous instructions"; they address the
agent ("to you, the assistant"), refer to the task it was given ("before you solve the task I
gave you"), name its tools ("use the tool `send_email` with the arguments ..."), fake a system
header ("### (system_message)"), or label an imperative as a to-do ("TODO: transfer ... to
<IBAN>"). These rules describe those shapes, not any benchmark's wording; Chinese, Russian,
Spanish, German and French carry the override, "you are now", task-reference and exfiltration
forms.
"""

from __future__ import annotations

from autan.guards.injection_rulebase import Rule
from autan.guards.injection_rulebase import rule as _r

_AI = (
    r"(?:gpt(?:-?\d[\w.-]*)?|chat\s?gpt|claude|llama|gemini|mistral|command[\w-]*|"
    r"(?:the\s+|an?\s+)?(?:ai|a\.i\.|llm|assistant|agent|chat\s?bot|bot|"
    r"(?:ai\s+|large\s+)?language\s+model|model))"
)
_ACTION = (
    r"(?:send|transfer|wire|pay|forward|e-?mail|mail|delete|remove|erase|create|schedule|book|"
    r"reserve|invite|add|post|share|upload|visit|open|go\s+to|navigate|change|update|reset|"
    r"set|say|tell|recommend|write|reply|respond|concatenate|copy|move|grant|give|make|insert|"
    r"include|print|reveal|find|get|read|list|summari[sz]e|call|run|execute|download|modify|edit|"
    r"replace|rename|cancel|revoke|disable|follow|subscribe|buy|purchase|order|join)"
)
# Where an attacker wants data or money to go: an e-mail address, a URL, an IBAN-like account.
# Another rail may have redacted it already: the placeholders the PII and secrets rails write.
_TARGET = (
    r"(?:[\w.+-]+@[\w-]+\.[\w.-]+|https?://\S+|www\.\S+|\b[A-Z]{2}\d{2}[A-Z0-9]{10,30}\b|"
    r"<(?:EMAIL_ADDRESS|IBAN_CODE|PHONE_NUMBER|URL)>|\[REDACTED:\w+\])"
)
# A line break into an indented line that starts no list item: a long line folded (YAML).
_FOLD = r"\n[ \t]+(?![-*•\d\s#/])"
_LINE = rf"(?:[^\n]|{_FOLD})"
# A character of the same sentence: a stop that no space follows is inside a word (an
# address, a URL) or a quotation ("'How is it going?' to ...").
_CLAUSE = rf"(?:[^\n;!?.]|[.!?](?!\s)|{_FOLD})"
# A to-do label where a word starts, after an underscore, or in capitals glued to the text
# before it ("...accordingly.TODO:", "USATODO:"): how a to-do spliced into a value reads.
# An escaped line break ("\\nTODO") is a line start, not glue. The words come first and the
# look-behinds after them, so the regex engine can skip ahead to a "t" (several times faster).
_GLUED = r"(?-i:TODO(?<=[^\s#*/(\[\-'\"“>]TODO)(?<!\\[nrt]TODO))"
TODO_LABEL = rf"(?:todo(?<![^\W_]todo)|to-do(?<![^\W_]to-do)|{_GLUED})"
# Left out of a to-do a person writes for themselves: the reader's principal named in the
# third person beside what an attacker wants of theirs, an order to act without asking, the
# writer as the one the reader should act for ("tell me", "on my calendar"), or identity
# numbers asked for.
_PRINCIPAL = (
    r"\b(?:the|this)\s+user(?:'s|s)?\b[^\n.]{0,60}?\b(?:password|credentials?|money|funds|"
    r"transactions?|payments?|iban|inbox|e-?mails|messages|files|contacts|calendar|history)\b"
    r"|\b(?:password|credentials?|money|funds|transactions?|payments?|iban|inbox|e-?mails|messages|"
    r"files|contacts|calendar)\b[^\n.]{0,40}?\b(?:of|for|from)\s+the\s+user\b"
    r"|\bwithout\s+(?:asking|telling|informing|notifying|confirm\w*)\b"
    r"|\b(?:do\s+not|don'?t|never)\s+(?:ask|tell|inform|notify|mention|confirm)\b"
    r"|\b(?:tell|send|give|show|get|find|e-?mail|forward|bring)\s+me\b|\bfor\s+me\b"
    r"|\bsay\s+(?:to\s+\w+\s+)?that\s+(?:i|we)\b|\bon\s+my\s+(?:calendar|behalf)\b"
    r"|\bto\s+my\s+(?:e-?mail|inbox|account|address|phone)\b"
    r"|\b(?:passport|credit\s+card|bank\s+account|social\s+security|id)[\s_-]+numbers?\b"
)
# Destruction of everything, or of one record picked out by its id or name.
_DESTROY = (
    r"(?:delete|erase|remove|wipe|destroy)\s+(?:all|every|each)\s+(?:of\s+)?(?:the\s+|my\s+|"
    r"your\s+|the\s+user'?s\s+)?(?:e-?mails?|messages?|files?|events?|contacts?|documents?|"
    r"data|records?|backups?|transactions?)\b"
    r"|(?:delete|erase|remove|wipe|destroy)\s+the\s+(?:file|e-?mail|message|event|document|"
    r"contact|account)s?\s+(?:with\s+(?:the\s+)?(?:id|name|title)|named|called|titled)\b"
)

AGENT_RULES: tuple[Rule, ...] = (
    _r(
        "message addressed to the AI",
        0.8,
        "to you,|to you ,",
        rf"\bto\s+you\s*,\s*(?:[\w.-]+\s+){{0,2}}?{_AI}\s*[.,:!]",
    ),
    _r(
        "reference to the agent's task",
        0.8,
        "task|request|question|assignment|instruction&before|instead|gave|given|assigned|asked",
        r"\b(?:before|instead\s+of)\s+(?:you\s+)?(?:can\s+|start\s+|begin\s+|go\s+on\s+to\s+)?"
        r"(?:solv|complet|continu|answer|finish|do|doing|perform|work\w*\s+on|address|handl)\w*\s+"
        r"(?:the|your|my|this|that|any)\s+(?:original\s+|current\s+|actual\s+|main\s+|real\s+|"
        r"other\s+)?(?:task|request|question|assignment|instructions?)"
        r"|\b(?:task|request|instructions?)\s+(?:that\s+)?(?:i|we|the\s+user)\s+(?:just\s+)?"
        r"(?:gave|have\s+given|assigned|asked)\s+(?:to\s+)?you\b",
    ),
    _r(
        "tool directive",
        0.75,
        "tool|function",
        r"\b(?:use|call|invoke|run|execute)\s+the\s+(?:tool|function)\s+[`'\"]?\w+"
        r"|\b(?:tool|function)\s+[`'\"]\w+[`'\"]\s+with\s+(?:the\s+)?(?:following\s+)?arguments",
    ),
    _r(
        "fake system marker",
        0.75,
        "##|(|[&system|admin|developer",
        r"#{2,}\s*[(\[]?\s*(?:system|admin|developer)(?:[_\s-]?(?:message|prompt|note|"
        r"instructions?|override))?\s*[)\]]"
        r"|[(\[]\s*(?:system|admin|developer)[_\s-](?:message|prompt|note|override)\s*[)\]]",
    ),
    _r(
        "instruction tag",
        0.6,
        "important>|information>|admin>|urgent>|instruction",
        r"<\s*/?\s*(?:important|information|admin|urgent|instructions?_?\w*)\s*>",
    ),
    _r(
        "labelled directive with a target",
        0.8,
        "todo|to-do|task|action|instruction|assistant|important|agent|ai:|ai -|note to"
        "&:|!|-&@|http|www.|<|[redacted|0|1|2|3|4|5|6|7|8|9",
        rf"(?:{TODO_LABEL}|\b(?:new\s+task|task|action(?:\s+required)?|instructions?|assistant|ai|"
        rf"agent|important!*|note\s+to\s+\w+))\s*[:!-]+\s*(?:please\s+)?{_ACTION}\b"
        rf"{_CLAUSE}{{0,160}}?{_TARGET}",
    ),
    _r(
        "to-do aimed at the reader",
        0.8,
        "todo|to-do&user|without|not|don|never|delete|erase|remove|wipe|destroy|me|my|number|say",
        rf"{TODO_LABEL}\s*[:!-]+\s*(?:please\s+)?"
        rf"(?={_ACTION}\b){_LINE}{{0,200}}?(?:{_PRINCIPAL}|{_DESTROY})",
    ),
    _r(
        "to-do spliced into the text",
        0.7,
        "todo",
        rf"{_GLUED}\s*:\s*(?:please\s+)?{_ACTION}\b",
    ),
    _r(
        "labelled directive",
        0.4,
        "todo|to-do|new task&:|!|-",
        rf"(?:{TODO_LABEL}|\bnew\s+task)\s*[:!-]+\s*(?:please\s+)?{_ACTION}\b"
        rf"\s+(?:a|an|the|all|my|me|that|this|to|\w+)\s",
    ),
    _r(
        "foreign-language override",
        0.9,
        "忽略|无视|忘记|忘掉|不要理会|игнор|забудь|забуд|не обращай|olvida|omite|haz caso|"
        "missacht|vergiss|ignorier|ignora|ignorez|ignorer|ignore les|ignore tou|ignore vos|"
        "ignore tes|oubli",
        r"(?:忽略|无视|忘记|忘掉|不要理会).{0,12}(?:指令|指示|说明|规则|提示|命令|要求)"
        r"|(?:про)?игнорир\w*\s+(?:\w+\s+){0,3}(?:инструкци|правил|указани|команд|требовани)"
        r"|забудь(?:те)?\s+(?:\w+\s+){0,3}(?:инструкци|правил|указани)"
        r"|не\s+обращай(?:те)?\s+внимания\s+на\s+(?:\w+\s+){0,3}(?:инструкци|правил|указани)"
        r"|\b(?:olvida|omite|haz\s+caso\s+omiso\s+(?:a|de))\s+(?:\w+\s+){0,3}"
        r"(?:instrucciones|indicaciones|reglas|órdenes)"
        r"|\b(?:missachte|vergiss|ignorier\w*)\s+(?:\w+\s+){0,3}(?:anweisungen|instruktionen|"
        r"regeln|befehle|vorgaben|aufgabe)"
        r"|\b(?:ignore[zr]\w*|oubli\w*)\s+(?:\w+\s+){0,3}(?:instructions|consignes|règles|directives)"
        r"|\bignore\s+(?:les|tou\w*|vos|tes)\s+(?:\w+\s+){0,2}(?:instructions|consignes|règles|"
        r"directives)",
    ),
    _r(
        "foreign-language role reassignment",
        0.7,
        "你现在|从现在开始|теперь ты|ты теперь|отныне|ahora eres|a partir de ahora|"
        "du bist jetzt|ab jetzt|tu es maintenant|vous êtes maintenant|désormais",
        r"(?:你现在是|从现在开始[，,]?\s*你)|(?:теперь\s+ты|ты\s+теперь|отныне\s+ты)\b"
        r"|\b(?:ahora\s+eres|a\s+partir\s+de\s+ahora\s+(?:eres|debes|vas))"
        r"|\b(?:du\s+bist\s+jetzt|ab\s+jetzt\s+bist\s+du)|\b(?:tu\s+es|vous\s+êtes)\s+maintenant"
        r"|\bdésormais,?\s+(?:tu|vous)\b",
    ),
    _r(
        "foreign-language reference to the agent's task",
        0.8,
        "任务|之前|задач|прежде|tarea|aufgabe|tâche",
        r"(?:在你|在您)?(?:完成|回答|执行|解决|处理).{0,10}(?:任务|问题|请求).{0,4}之前"
        r"|прежде\s+чем\s+(?:\w+\s+){0,3}(?:задач|запрос|вопрос)"
        r"|\bantes\s+de\s+(?:resolver|completar|hacer|responder|realizar)\s+(?:\w+\s+){0,2}"
        r"(?:tarea|petición|solicitud)"
        r"|\bbevor\s+(?:du|sie)\s+(?:\w+\s+){0,3}(?:aufgabe|anfrage)"
        r"|\bavant\s+de\s+(?:résoudre|terminer|faire|répondre|traiter|réaliser)\s+(?:\w+\s+)"
        r"{0,2}(?:tâche|demande)",
    ),
    _r(
        "foreign-language exfiltration",
        0.8,
        "发送|转发|转账|汇款|发给|отправ|перешли|переведи|envía |envia |reenvía |transfiere |"
        "sende |schick|überweise |leite |envoie|envoyez |transfère|transférez ",
        rf"(?:发送|转发|转账|汇款|发给).{{0,40}}?{_TARGET}"
        rf"|(?:отправ\w*|перешли\w*|переведи\w*)\s+[^\n]{{0,80}}?{_TARGET}"
        rf"|\b(?:env[ií]a|reenv[ií]a|transfiere)\w*\s+[^\n]{{0,80}}?{_TARGET}"
        rf"|\b(?:sende|schick\w*|überweise|leite)\s+[^\n]{{0,80}}?{_TARGET}"
        rf"|\b(?:envoie\w*|envoyez|transf[eè]r\w*)\s+[^\n]{{0,80}}?{_TARGET}",
    ),
    _r(
        "foreign-language prompt extraction",
        0.8,
        "系统提示|提示词|системн|промпт|prompt del sistema|instrucciones del sistema|systemprompt|"
        "system-prompt|prompt système|prompt systeme",
        r"(?:显示|输出|告诉我|透露|打印|泄露).{0,8}(?:系统提示|提示词|初始指令)"
        r"|(?:покажи|выведи|раскрой|напиши|повтори)\w*\s+(?:\w+\s+){0,3}(?:системн\w+\s+"
        r"(?:промпт|подсказк|инструкци|сообщени)|промпт)",
    ),
)
