"""A twin of an SMTP submission server: aiosmtpd (a real SMTP implementation, not hand
written) on 127.0.0.1, with STARTTLS required before AUTH and mail (`smtp://`), or TLS from
the first byte (`smtps://`), and one user. Its certificate is the self-signed one in
twins/tls (for 127.0.0.1 and localhost; trust it with `ca_file`): a test double's, no secret.

It keeps every message it takes. Like Gmail, a mailbox holds one copy per Message-ID:
`messages()` shows each mailbox's, `deliveries` counts every DATA accepted per Message-ID,
so a test tells a repeat a receiver would collapse from a second, different mail. Faults:
`refuse_next` answers the next DATA with a code (451: transient; 554: permanent), and
`unknown` addresses are refused at RCPT (550).
"""

from __future__ import annotations

import logging
import ssl
import threading
from collections import Counter
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from importlib.resources import files
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

CERT = Path(str(files("afterhours.twins") / "tls" / "smtp-twin.pem"))
KEY = Path(str(files("afterhours.twins") / "tls" / "smtp-twin.key"))


def _tls() -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(CERT, KEY)
    return context


class _Controller(Controller):
    """aiosmtpd's controller on a free port: the one the OS chose, read once bound."""

    def _trigger_server(self) -> None:
        server: Any = self.server  # an asyncio.Server, bound by now
        self.port = server.sockets[0].getsockname()[1]
        super()._trigger_server()  # type: ignore[no-untyped-call]


class SmtpTwin:
    """An SMTP server on 127.0.0.1 that keeps what it is sent (see the module)."""

    def __init__(self, *, implicit_tls: bool = False, user: str = "afterhours",
                 password: str = "smtp-twin-password") -> None:  # noqa: S107  (a twin's)
        self.implicit_tls = implicit_tls
        self.user, self.password = user, password
        self.ca_file = str(CERT)
        self.unknown: set[str] = set()  # addresses refused at RCPT
        self.deliveries: Counter[str] = Counter()  # Message-ID -> DATA accepted
        self.logins: Counter[str] = Counter()  # "ok" / "refused"
        self._lock = threading.Lock()
        self._boxes: dict[str, dict[str, EmailMessage]] = {}  # mailbox -> Message-ID -> mail
        self._refusals: list[str] = []
        self._controller: _Controller | None = None

    @property
    def url(self) -> str:
        """AFTERHOURS_SMTP_URL for this twin, without the credentials."""
        if self._controller is None:
            raise RuntimeError("the SMTP twin is not started")
        scheme = "smtps" if self.implicit_tls else "smtp"
        return f"{scheme}://127.0.0.1:{self._controller.port}"

    def start(self) -> str:
        """Listen on a free port of 127.0.0.1; return the URL."""
        tls = _tls()
        # Implicit TLS is TLS from the first byte, which aiosmtpd's AUTH checks cannot see:
        # there the twin asks for the login itself (handle_MAIL).
        tls_kwargs: dict[str, Any] = (
            {"ssl_context": tls, "auth_require_tls": False, "auth_required": False}
            if self.implicit_tls else
            {"tls_context": tls, "require_starttls": True, "auth_require_tls": True,
             "auth_required": True})
        # aiosmtpd logs a deprecation of its own at every successful login.
        logging.getLogger("mail.log").setLevel(logging.ERROR)
        self._controller = _Controller(
            self, hostname="127.0.0.1", port=0, authenticator=self._authenticate,
            **tls_kwargs)
        self._controller.start()
        return self.url

    def stop(self) -> None:
        """Stop serving."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> SmtpTwin:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def refuse_next(self, count: int, reply: str = "451 4.3.0 Try again later") -> None:
        """Answer the next `count` messages' DATA with `reply`, taking none."""
        with self._lock:
            self._refusals += [reply] * count

    def messages(self, mailbox: str | None = None) -> list[EmailMessage]:
        """The messages in `mailbox` (each Message-ID once), or every distinct one."""
        with self._lock:
            if mailbox is not None:
                return list(self._boxes.get(mailbox.casefold(), {}).values())
            found: dict[str, EmailMessage] = {}
            for box in self._boxes.values():
                found.update(box)
            return list(found.values())

    def _authenticate(self, server: SMTP, session: Session, envelope: Envelope,
                      mechanism: str, auth_data: Any) -> AuthResult:
        given = auth_data if isinstance(auth_data, LoginPassword) else None
        ok = given is not None and (given.login.decode(), given.password.decode()) == (
            self.user, self.password)
        self.logins["ok" if ok else "refused"] += 1
        return AuthResult(success=ok, handled=False)

    async def handle_MAIL(self, server: SMTP, session: Session, envelope: Envelope,  # noqa: N802
                          address: str, mail_options: list[str]) -> str:
        """aiosmtpd's hook: no mail before a login."""
        if not session.authenticated:
            return "530 5.7.0 Authentication required"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope,  # noqa: N802
                          address: str, rcpt_options: list[str]) -> str:
        """aiosmtpd's hook: refuse an unknown address, take the others."""
        if address.casefold() in {a.casefold() for a in self.unknown}:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session,  # noqa: N802
                          envelope: Envelope) -> str:
        """aiosmtpd's hook: keep the message in each recipient's mailbox."""
        with self._lock:
            if self._refusals:
                return self._refusals.pop(0)
            content = envelope.content if isinstance(envelope.content, bytes) else b""
            message = message_from_bytes(content, policy=default)
            key = str(message["Message-ID"])
            self.deliveries[key] += 1
            for address in envelope.rcpt_tos:
                self._boxes.setdefault(address.casefold(), {}).setdefault(key, message)
        return "250 Message accepted for delivery"

