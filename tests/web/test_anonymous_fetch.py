"""fetch_url reads the public web anonymously: what lets it follow a link the user pointed at.

The capability policy lets a tool declared ``public_read`` fetch a URL written in content the
user's request names (docs/security.md). That is sound only if the fetch carries nothing of the
user's: no cookie a page set earlier, no credential, no header of the user's. Real loopback
server, real fetcher.
"""

from __future__ import annotations

from typing import Any

from autan.config import load_settings
from autan.tools.spec import spec_of
from autan.tools.web.testing import LoopbackServer, Reply
from autan.tools.web.tools import make_fetch_url


async def test_a_cookie_a_page_sets_is_never_sent_back(
    origin: LoopbackServer, make_fetcher: Any
) -> None:
    origin.routes["/login"] = Reply(
        200, b"<p>welcome</p>", {"Content-Type": "text/html", "Set-Cookie": "sid=s3cret; Path=/"}
    )
    origin.routes["/account"] = Reply(200, b"<p>account</p>")
    fetcher = make_fetcher()
    await fetcher.fetch(origin.url("/login"))
    await fetcher.fetch(origin.url("/account"))
    sent = origin.requests[-1].headers
    assert "Cookie" not in sent and "Authorization" not in sent
    assert origin.requests[-1].path == "/account"


def test_fetch_url_declares_an_anonymous_public_read(tmp_path: Any) -> None:
    spec = spec_of(make_fetch_url(load_settings(workspace=tmp_path)))
    assert spec.public_read and spec.effect == "egress"
