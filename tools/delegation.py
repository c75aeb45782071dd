"""Two narrow delegations the user's own words make to content they name (docs/security.md).

The capability policy refuses a consequential value that only untrusted content supplies. Two
kinds of request hand such a value to content on purpose, and each is honoured in a narrow form:

- **Following a link** (``follow_links``): "summarize the article Bob posted in 'general'". A
  tool declared ``public_read`` (it fetches public pages anonymously: no cookies, credentials or
  user headers, public addresses only) may take a URL written verbatim in content the user's
  own words name: the result of a call whose every designating argument (a channel, an inbox, a
  sender, a file, a URL) is in the user's request. One hop: a page never lends its links (the
  user asked to read it, not to crawl it), nor does content the agent found its own way to.
  With ``any``, a link written verbatim in any content the run has read may be fetched.
- **A named person's address** (``addresses``): "invite Dora, her e-mail is on
  www.dora-website.com". A page or file the user's words name by its address (URL or path) that
  holds exactly one e-mail address and names the person vouches for that address, verbatim, in a
  call whose other recipient argument is that person, named in the user's words.

"Verbatim" keeps the value from carrying data the writer did not put there: a URL is compared
exactly but for its scheme, ``www.``, a trailing slash and the host's case, so a change of case,
encoding or query (a bit of private data) is a different URL and stays refused.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from autan.tools.provenance import EMAIL, SCHEME, Provenance, Source, pieces
from autan.tools.spec import UNDECLARED, ArgKind, ToolSpec, Trust

_LINK = re.compile(r"(?:https?://|www\.)[^\s<>\"'`)\]}\\]+", re.IGNORECASE)
_TRAILING = ".,;:!?"  # sentence punctuation after a link is not part of it
_DESIGNATING = (ArgKind.PATH, ArgKind.URL, ArgKind.RECIPIENT)
_ADDRESSES = (ArgKind.PATH, ArgKind.URL)


def link_key(url: str) -> str:
    """A URL as compared for following: no scheme, ``www.`` or trailing slash; host lower-cased.

    Everything after the host is kept exactly: a path or query in another case or encoding is
    another URL (it could carry data the writer of the link did not put there).
    """
    rest = SCHEME.sub("", url.strip())
    host, path = re.match(r"([^/?#]*)(.*)", rest, re.DOTALL).groups()  # type: ignore[union-attr]
    return host.lower().removeprefix("www.") + path.rstrip("/")


def links_in(text: str) -> set[str]:
    """The link keys written in ``text`` (a backslash, as in a JSON escape, ends a link)."""
    found = (m.group() for m in _LINK.finditer(text))
    return {link_key(u) for raw in found for u in {raw, raw.rstrip(_TRAILING)}}


def said(ledger: Provenance, value: Any, kind: ArgKind, exact: bool = False) -> bool:
    """Whether the user's own words hold ``value`` (``exact``: a URL whole, not just its host)."""
    found = pieces(value, kind)
    users = [s for s in ledger.sources if s.trust == Trust.USER and not s.structural]
    return bool(found) and all(
        any(p.found(s, p.vouch[:1] if exact else p.vouch) for s in users) for p in found
    )


def _named(spec: ToolSpec, args: Mapping[str, Any], ledger: Provenance, exact: bool) -> bool:
    """Every designating argument given is the user's word, and one of them is an address."""
    given = [(a, k) for a, k in spec.args.items() if k in _DESIGNATING and a in args]
    given = [(a, k) for a, k in given if pieces(args[a], k)]
    wanted = _ADDRESSES if exact else _DESIGNATING
    return any(k in wanted for _, k in given) and all(
        said(ledger, args[a], k, exact and k in _ADDRESSES) for a, k in given
    )


def flags(spec: ToolSpec, args: Mapping[str, Any], ledger: Provenance) -> dict[str, bool]:
    """What the user's words delegate to this call's result (``ledger``: before the call).

    ``links``: its links may be followed by a public read (not when it is itself a page);
    ``addressed``: the user named it by its address, so its one e-mail address may vouch.
    """
    if spec is UNDECLARED or spec.output_trust != Trust.UNTRUSTED:
        return {}
    return {
        "links": not spec.public_read and _named(spec, args, ledger, exact=False),
        "addressed": _named(spec, args, ledger, exact=True),
    }


def followed(value: Any, ledger: Provenance, mode: str) -> bool:
    """Whether a public read may fetch URL ``value``: written verbatim where ``mode`` allows."""
    if mode == "none" or not isinstance(value, str) or not value.strip():
        return False
    key = link_key(value)
    return any(
        (mode == "any" or s.links) and key in links_in(s.raw) for s in _content(ledger.sources)
    )


def addressed(
    arg: str, value: Any, spec: ToolSpec, args: Mapping[str, Any], ledger: Provenance
) -> bool:
    """Whether ``value`` of recipient ``arg`` is the one address of a source the user named.

    The call's other recipient argument must be a person the user's words name, and the source
    must name them too: the user said where that person's address is.
    """
    if not isinstance(value, str) or not EMAIL.fullmatch(value.strip()):
        return False
    people = [
        v
        for a, k in spec.args.items()
        if k == ArgKind.RECIPIENT and a != arg and isinstance(v := args.get(a), str)
        if not EMAIL.search(v) and said(ledger, v, ArgKind.RECIPIENT)
    ]
    return any(
        s.addressed
        and {m.group() for m in EMAIL.finditer(s.raw)} == {value.strip()}
        and any(p.found(s, p.vouch) for v in people for p in pieces(v, ArgKind.RECIPIENT))
        for s in _content(ledger.sources)
    )


def _content(sources: Sequence[Source]) -> list[Source]:
    return [s for s in sources if s.trust == Trust.UNTRUSTED and not s.structural]
