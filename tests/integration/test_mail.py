"""api/mail.py against a real SMTP server (aiosmtpd): STARTTLS and implicit TLS with AUTH, and the iMIP part."""

from __future__ import annotations

import datetime
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from api.mail import CalendarPart, Mail, SmtpMailer
from testkit.server import free_port
from tests.support.smtp import Inbox

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


def _check_login(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (b"mailer", b"right password")
    return AuthResult(success=ok, handled=False)


@pytest.fixture(params=["starttls", "implicit"])
def tls_server(request: pytest.FixtureRequest, certificate: tuple[Path, Path]) -> Iterator[tuple[Inbox, int, str]]:
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(*certificate)
    inbox, port = Inbox(), free_port()
    common: dict[str, Any] = {"authenticator": _check_login, "auth_require_tls": True}
    if request.param == "starttls":
        controller = Controller(inbox, hostname="127.0.0.1", port=port, tls_context=server_ctx, **common)
    else:
        # aiosmtpd only counts STARTTLS as TLS for auth_require_tls; here the whole connection is TLS already.
        common["auth_require_tls"] = False
        controller = Controller(
            inbox, hostname="127.0.0.1", port=port, ssl_context=server_ctx, server_hostname="localhost", **common
        )
    controller.start()
    try:
        yield inbox, port, request.param
    finally:
        controller.stop()


def _client_ctx(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=str(certificate[0]))
    ctx.check_hostname = False  # the server is reached as 127.0.0.1; the certificate is still verified
    return ctx


async def test_tls_and_auth_deliver_an_imip_message(
    tls_server: tuple[Inbox, int, str], certificate: tuple[Path, Path]
) -> None:
    inbox, port, mode = tls_server
    mailer = SmtpMailer(
        "127.0.0.1",
        port,
        "cal@meetmesh.test",
        tls=mode,
        username="mailer",
        password="right password",
        tls_context=_client_ctx(certificate),
    )
    ics = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n"
    await mailer.send(Mail("to@example.test", "Invitation: X", "Body", CalendarPart("REQUEST", ics)))
    [(to, msg)] = inbox.messages
    assert to == ["to@example.test"] and msg.get_content_type() == "multipart/alternative"
    [part] = [p for p in msg.walk() if p.get_content_type() == "text/calendar"]
    assert part.get_param("method") == "REQUEST" and part.get_payload(decode=True) == ics


async def test_a_wrong_password_or_an_untrusted_certificate_is_refused(
    tls_server: tuple[Inbox, int, str], certificate: tuple[Path, Path]
) -> None:
    inbox, port, mode = tls_server
    wrong = SmtpMailer(
        "127.0.0.1",
        port,
        "c@m.test",
        tls=mode,
        username="mailer",
        password="nope",
        tls_context=_client_ctx(certificate),
    )
    with pytest.raises(Exception) as refused:
        await wrong.send(Mail("to@example.test", "S", "B"))
    assert "535" in str(refused.value) or "Authentication" in str(refused.value)
    untrusting = SmtpMailer("127.0.0.1", port, "c@m.test", tls=mode, username="mailer", password="right password")
    with pytest.raises(ssl.SSLError):
        await untrusting.send(Mail("to@example.test", "S", "B"))
    assert inbox.messages == []


def test_an_unknown_tls_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="API_SMTP_TLS"):
        SmtpMailer("127.0.0.1", 25, "c@m.test", tls="sometimes")
