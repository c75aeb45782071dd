"""On-disk page cache: fresh entries are served without a request, stale ones are revalidated.

An entry is the decoded body plus its validators (ETag, Last-Modified); past the TTL the fetcher
sends ``If-None-Match`` / ``If-Modified-Since`` and a 304 refreshes the entry in place.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path


@dataclass(frozen=True)
class Page:
    """A fetched response as the tools use it (whether from the network or the cache)."""

    url: str
    final_url: str
    status: int
    content_type: str
    body: bytes
    fetched_at: str
    etag: str = ""
    last_modified: str = ""
    from_cache: bool = False
    stored_at: float = 0.0
    storable: bool = True  # False for ``Cache-Control: no-store``


class PageCache:
    """Pages under ``root``, one JSON + one body file per URL, written atomically."""

    def __init__(self, root: Path, ttl_s: float) -> None:
        self.root, self.ttl_s = root, ttl_s

    def _paths(self, url: str) -> tuple[Path, Path]:
        key = hashlib.sha256(url.encode("utf-8")).hexdigest()
        base = self.root / key[:2] / key
        return base.with_suffix(".json"), base.with_suffix(".body")

    def get(self, url: str) -> Page | None:
        """The stored page for ``url``, fresh or stale; None when absent or unreadable."""
        meta_path, body_path = self._paths(url)
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            return Page(**meta, body=body_path.read_bytes(), from_cache=True)
        except (OSError, ValueError, TypeError):
            return None

    def fresh(self, page: Page) -> bool:
        """Still within the TTL."""
        return time.time() - page.stored_at < self.ttl_s

    def revalidation_headers(self, page: Page | None) -> dict[str, str]:
        """Conditional request headers for a stale entry."""
        headers: dict[str, str] = {}
        if page is not None and page.etag:
            headers["If-None-Match"] = page.etag
        if page is not None and page.last_modified:
            headers["If-Modified-Since"] = page.last_modified
        return headers

    def put(self, page: Page) -> Page:
        """Store ``page`` (now) and return it as stored."""
        page = replace(page, stored_at=time.time())
        meta_path, body_path = self._paths(page.url)
        meta_path.parent.mkdir(parents=True, exist_ok=True)
        meta = {k: v for k, v in asdict(page).items() if k not in ("body", "from_cache")}
        _atomic_write(body_path, page.body)
        _atomic_write(meta_path, json.dumps(meta).encode("utf-8"))
        return page


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
