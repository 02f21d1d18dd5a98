"""E-mail escalations over SMTP (smtplib), never in the clear.

`AFTERHOURS_SMTP_URL` is `smtp://host:587` (STARTTLS, refused when the server does not offer
it) or `smtps://host:465` (TLS from the first byte); the user and password come from the
URL or from AFTERHOURS_SMTP_USER and AFTERHOURS_SMTP_PASSWORD. Each mail has a plain-text and
an HTML part, `Auto-Submitted: auto-generated` (RFC 3834: no out-of-office answers it), and a
Message-ID derived from its ledger key: a mail sent again after a lost answer is the same
message, which receivers that keep one copy per Message-ID show once.

Answers: 2xx delivered; 4xx transient (retried), 5xx permanent with the server's words; a
refused login is an AccessError (an operator must act); no connection or a dropped one is
transient. The password is a secret: no log line or error names it.
"""

from __future__ import annotations

import hashlib
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any
from urllib.parse import unquote, urlsplit

import structlog

from afterhours.breaker import Breakers, guarded
from afterhours.domain.actions import SendMail
from afterhours.domain.render import one_line
from afterhours.errors import AccessError, PermanentError, ServiceError, TransientError
from afterhours.ops.metrics import Metrics
from afterhours.retrying import RetryPolicy, call_with_retries

SERVICE = "smtp"
ENDPOINT = "SMTP sendmail"
PORTS = {"smtp": 587, "smtps": 465}
log = structlog.get_logger()


def message_id(key: str, sender: str) -> str:
    """The Message-ID of the mail whose ledger key is `key`: the same for every attempt."""
    domain = sender.rpartition("@")[2] or "afterhours.invalid"
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:40]}@{domain}>"


def build_message(action: SendMail, sender: str) -> EmailMessage:
    """The mail as sent: both parts, the headers that make it an automatic message."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(action.to)
    message["Subject"] = action.subject
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = message_id(action.message_key, sender)
    message["Auto-Submitted"] = "auto-generated"
    message["X-Auto-Response-Suppress"] = "All"  # Exchange's own word for the same
    message.set_content(action.text)
    message.add_alternative(action.html, subtype="html")
    return message


class SmtpMailer:
    """Sends escalation mail through one SMTP server."""

    def __init__(
        self,
        url: str,
        *,
        sender: str,
        user: str | None = None,
        password: str | None = None,
        ca_file: str | None = None,
        timeout: float = 10.0,
        retry: RetryPolicy | None = None,
        breakers: Breakers | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        parts = urlsplit(url)
        self._implicit = parts.scheme == "smtps"
        self._host = parts.hostname or ""
        self._port = parts.port or PORTS.get(parts.scheme, 587)
        self._user = user or (unquote(parts.username) if parts.username else None)
        self._password = password or (unquote(parts.password) if parts.password else None)
        self._sender = sender
        self._tls = ssl.create_default_context(cafile=ca_file)
        self._timeout = timeout
        self._retry = retry or RetryPolicy()
        self._breakers = breakers
        self._metrics = metrics or Metrics()

    @property
    def where(self) -> str:
        """The server, for messages: host and port, never the credentials."""
        return f"{self._host}:{self._port}"

    def send(self, action: SendMail) -> dict[str, Any]:
        """Mail `action` to its recipients; what was refused, if some were (the others got
        it). TransientError, PermanentError or AccessError when nobody did."""
        message = build_message(action, self._sender)

        def attempt() -> dict[str, Any]:
            with self._session() as session:
                refused = session.send_message(message, self._sender, list(action.to))
            self._metrics.api_request(SERVICE, ENDPOINT, 250)
            if refused:
                log.warning("smtp.recipients_refused", channel=action.channel,
                            refused=sorted(refused))
            return {"refused": sorted(refused)} if refused else {}

        breaker = None if self._breakers is None else self._breakers.get(SERVICE)
        return call_with_retries(self._retry, "smtp.send", guarded(breaker, self._mapped(
            attempt, action.channel)))

    def probe(self) -> None:
        """Connect, secure the connection and log in, sending nothing (check --live)."""
        def attempt() -> None:
            with self._session():
                pass

        self._mapped(attempt, "check")()

    def _session(self) -> smtplib.SMTP:
        """A connection secured by TLS (implicit, or STARTTLS) and logged in when a user is
        set; the caller closes it (a `with` block quits)."""
        if self._implicit:
            return self._login(smtplib.SMTP_SSL(self._host, self._port, timeout=self._timeout,
                                                context=self._tls))
        session = smtplib.SMTP(self._host, self._port, timeout=self._timeout)
        try:
            session.ehlo()
            if not session.has_extn("starttls"):
                raise PermanentError(SERVICE, f"{self.where} offers no STARTTLS; afterhours "
                                     "sends no mail in the clear (use smtps:// for port 465)")
            session.starttls(context=self._tls)
            session.ehlo()
        except BaseException:
            session.close()
            raise
        return self._login(session)

    def _login(self, session: smtplib.SMTP) -> smtplib.SMTP:
        try:
            if self._user is not None:
                session.login(self._user, self._password or "")
        except BaseException:
            session.close()
            raise
        return session

    def _mapped(self, attempt: Any, channel: str) -> Any:
        """`attempt` with smtplib's and the network's exceptions as afterhours' errors."""
        def run() -> Any:
            try:
                return attempt()
            except ServiceError:
                raise
            except smtplib.SMTPAuthenticationError as error:
                self._metrics.api_request(SERVICE, ENDPOINT, error.smtp_code)
                raise AccessError(SERVICE, f"{channel}: {self.where} refused the login:"
                                  f" {_said(error.smtp_error)}", status=error.smtp_code) from error
            except smtplib.SMTPRecipientsRefused as error:
                codes = [code for code, _ in error.recipients.values()]
                self._metrics.api_request(SERVICE, ENDPOINT, max(codes, default=None))
                raise _by_code(max(codes, default=550), f"{channel}: every recipient refused"
                               f" ({', '.join(sorted(error.recipients))})") from error
            except smtplib.SMTPResponseException as error:
                self._metrics.api_request(SERVICE, ENDPOINT, error.smtp_code)
                raise _by_code(error.smtp_code, f"{channel}: {self.where} answered"
                               f" {error.smtp_code}: {_said(error.smtp_error)}") from error
            except ssl.SSLError as error:
                self._metrics.api_request(SERVICE, ENDPOINT, None)
                raise AccessError(SERVICE, f"{channel}: TLS with {self.where} failed:"
                                  f" {error.reason or type(error).__name__}") from error
            except (smtplib.SMTPException, OSError) as error:
                self._metrics.api_request(SERVICE, ENDPOINT, None)
                raise TransientError(SERVICE, f"{channel}: {self.where}:"
                                     f" {type(error).__name__}") from error
        return run

    def close(self) -> None:
        """Nothing is kept open between mails."""


def _by_code(code: int, message: str) -> ServiceError:
    if 400 <= code < 500:
        return TransientError(SERVICE, message, status=code)
    return PermanentError(SERVICE, message, status=code)


def _said(reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    return one_line(text, 200)
