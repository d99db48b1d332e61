"""SMTP: one connection (STARTTLS, implicit TLS, or plain to a local relay), reused and reopened when dropped.

The transaction is split into MAIL, RCPT and DATA so a dropped connection can be told apart: before
DATA nothing was accepted and the message is retried; during DATA it may have been, so it is unknown.
"""

from __future__ import annotations

import ipaddress
import logging
import smtplib
import ssl
from typing import TYPE_CHECKING

from pipeline.errors import ConfigError, Unreachable
from pipeline.send.backend import FAILED, FATAL, RETRY, SENT, UNKNOWN, Attempt

if TYPE_CHECKING:
    from pipeline.settings import Settings
    from pipeline.render.email.message import OutgoingMessage

log = logging.getLogger(__name__)


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _reply(code: int, reply: bytes | str) -> str:
    text = reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
    return f"{code} {' '.join(text.split())}"[:300]


class SmtpBackend:
    """Delivers over one SMTP connection; smtplib is not thread-safe, so one call at a time."""

    name = "smtp"
    rate = None
    concurrency = 1

    def __init__(self, settings: "Settings", *, ssl_context: ssl.SSLContext | None = None) -> None:
        self.conf = settings.smtp
        self.sender = settings.email.from_address.strip()
        self.ssl_context = ssl_context
        self._conn: smtplib.SMTP | None = None

    @property
    def where(self) -> str:
        return f"SMTP server {self.conf.host}:{self.conf.port}"

    def open(self) -> None:
        if not self.conf.host:
            raise ConfigError("smtp.host is empty; set the mail server (or use email.backend = \"outbox\")")
        if not self.sender:
            raise ConfigError("email.from_address is empty; set the address mail is sent from")
        password = self.conf.password.get_secret_value()
        if self.conf.security == "none" and password and not _loopback(self.conf.host):
            raise ConfigError(f"smtp.security = \"none\" would send SMTP_PASSWORD in clear text to {self.conf.host}; "
                              "use starttls or tls")
        try:
            self._connect()
        except (OSError, smtplib.SMTPException) as exc:
            self._drop()
            raise self._connect_error(exc) from None

    def _connect(self) -> smtplib.SMTP:
        context = self.ssl_context or ssl.create_default_context()
        timeout = self.conf.timeout_seconds
        if self.conf.security == "tls":
            conn: smtplib.SMTP = smtplib.SMTP_SSL(self.conf.host, self.conf.port, timeout=timeout, context=context)
        else:
            conn = smtplib.SMTP(self.conf.host, self.conf.port, timeout=timeout)
        self._conn = conn
        conn.ehlo()
        if self.conf.security == "starttls":
            conn.starttls(context=context)
            conn.ehlo()
        if self.conf.username:
            conn.login(self.conf.username, self.conf.password.get_secret_value())
        return conn

    def _connect_error(self, exc: BaseException) -> Exception:
        if isinstance(exc, smtplib.SMTPAuthenticationError):
            return ConfigError(f"{self.where} refused the login of {self.conf.username!r} "
                               f"({_reply(exc.smtp_code, exc.smtp_error)}); check smtp.username and SMTP_PASSWORD")
        if isinstance(exc, smtplib.SMTPNotSupportedError):
            return ConfigError(f"{self.where} does not offer STARTTLS or AUTH as configured; check smtp.security "
                               "and smtp.port (587 starttls, 465 tls)")
        if isinstance(exc, ssl.SSLError):
            return ConfigError(f"TLS with {self.where} failed ({exc.reason or exc}); check smtp.security and "
                               "smtp.port (587 starttls, 465 tls)")
        return Unreachable(f"cannot reach {self.where} ({type(exc).__name__}: {exc}); check smtp.host and smtp.port")

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except OSError:
                pass

    def suppressed(self) -> dict[str, str]:
        return {}

    def attempt(self, msg: "OutgoingMessage") -> Attempt:
        try:
            if self._conn is None:
                log.info("SMTP: connecting to %s again", self.where)
            conn = self._conn or self._connect()
        except (OSError, smtplib.SMTPException) as exc:
            self._drop()
            error = self._connect_error(exc)
            if isinstance(error, ConfigError):
                return Attempt(FATAL, error=str(error), fatal=error)
            return Attempt(RETRY, error=str(error), give_up=error)
        stage = "MAIL FROM"
        try:
            code, reply = conn.mail(self.sender)
            if code != 250:
                return self._refused(conn, stage, code, reply)
            stage = "RCPT TO"
            code, reply = conn.rcpt(msg.recipient.email)
            if code not in (250, 251):
                return self._refused(conn, stage, code, reply)
            stage = "DATA"
            try:
                code, reply = conn.data(msg.mime)
            except smtplib.SMTPDataError as exc:  # DATA itself was refused: the body was never sent
                return self._refused(conn, stage, exc.smtp_code, exc.smtp_error)
            if code != 250:
                return self._refused(conn, stage, code, reply)
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            self._drop()
            if stage == "DATA":
                return Attempt(UNKNOWN, error=f"{self.where} dropped the connection during DATA ({exc})")
            return Attempt(RETRY, error=f"{self.where} dropped the connection at {stage}; reconnecting")
        return Attempt(SENT, provider_id=_reply(code, reply))

    def _refused(self, conn: smtplib.SMTP, stage: str, code: int, reply: bytes | str) -> Attempt:
        line = f"{stage}: {_reply(code, reply)}"
        try:
            conn.rset()
        except (smtplib.SMTPException, OSError):
            self._drop()
        if code == 421:  # the server is closing the connection
            self._drop()
        if 400 <= code < 500:
            return Attempt(RETRY, error=line, throttled=code in (421, 450, 451, 452))
        if stage == "MAIL FROM":
            return Attempt(FATAL, error=line, fatal=ConfigError(
                f"{self.where} refused the sender {self.sender} ({line}); check email.from_address and smtp.username"))
        return Attempt(FAILED, error=line)

    def delivered(self, msg: "OutgoingMessage") -> bool | None:
        return None

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.quit()
            except (smtplib.SMTPException, OSError):
                conn.close()
