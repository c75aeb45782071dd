"""The web tests' loopback fixtures, shared with the SSRF tests."""

from tests.web.conftest import make_fetcher, origin, settings_for_origin  # noqa: F401
