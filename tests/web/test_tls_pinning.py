"""HTTPS through the pinned transport: the connection goes to the vetted address while TLS SNI,
certificate checks and the Host header all use the host name."""

from __future__ import annotations

import datetime as dt
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from autan.config import WebSettings
from autan.errors import BackendError
from autan.tools.web.fetch import WebFetcher
from autan.tools.web.testing import LoopbackServer, RecordingBackend, Reply, ScriptedResolver


def _cert(name: str, key: Any, issuer: x509.Name, signer: Any, ca: bool) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if not ca:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), False)
    return builder.sign(signer, hashes.SHA256())


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """(server context for pinned.test, client context trusting only the test CA)."""
    ca_key, leaf_key = (
        ec.generate_private_key(ec.SECP256R1()),
        ec.generate_private_key(ec.SECP256R1()),
    )
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "autan test CA")])
    ca = _cert("autan test CA", ca_key, ca_name, ca_key, ca=True)
    leaf = _cert("pinned.test", leaf_key, ca.subject, ca_key, ca=False)
    folder: Path = tmp_path_factory.mktemp("pki")
    (folder / "leaf.pem").write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(
        leaf_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(folder / "leaf.pem", folder / "key.pem")
    client = ssl.create_default_context(cadata=ca.public_bytes(serialization.Encoding.PEM).decode())
    return server, client


@pytest.fixture
def tls_origin(pki: Any) -> Iterator[LoopbackServer]:
    with LoopbackServer(
        {"/page": Reply(200, b"<title>tls</title><p>over TLS</p>")}, tls=pki[0]
    ) as s:
        yield s


def fetcher_for(server: LoopbackServer, client: ssl.SSLContext, host: str) -> WebFetcher:
    web = WebSettings(
        test_allow_loopback_ports=[server.port], per_host_rate_per_s=0, respect_robots=False
    )
    resolver = ScriptedResolver({host: [["127.0.0.1"]]})
    backend = RecordingBackend()
    fetcher = WebFetcher(web, resolver=resolver, network_backend=backend, ssl_context=client)
    fetcher.backend = backend  # type: ignore[attr-defined]
    return fetcher


async def test_https_is_pinned_by_address_but_verified_by_name(
    tls_origin: LoopbackServer, pki: Any
) -> None:
    fetcher = fetcher_for(tls_origin, pki[1], "pinned.test")
    page = await fetcher.fetch(f"https://pinned.test:{tls_origin.port}/page")
    await fetcher.aclose()
    assert page.status == 200 and b"over TLS" in page.body
    assert fetcher.backend.connects == [("127.0.0.1", tls_origin.port)]  # type: ignore[attr-defined]
    assert tls_origin.sni == ["pinned.test"]
    assert tls_origin.requests[0].headers["Host"] == f"pinned.test:{tls_origin.port}"


async def test_a_certificate_for_another_name_is_rejected(
    tls_origin: LoopbackServer, pki: Any
) -> None:
    fetcher = fetcher_for(tls_origin, pki[1], "other.test")
    with pytest.raises(BackendError, match="(?i)certificate"):
        await fetcher.fetch(f"https://other.test:{tls_origin.port}/page")
    await fetcher.aclose()
    assert tls_origin.requests == []
