"""Delivery of pending e-mail notices over SMTP (smtplib).

A notice is marked sent only after the server accepted its message, one commit per notice,
so a crash or a lost connection never loses one; at worst one message is sent twice, with
the same Message-ID. What cannot be sent stays pending and is logged with a stable code.
"""

import logging
import smtplib
import ssl
from email.message import EmailMessage
from typing import Any, Literal

import msgspec

from central.circulation import letters, notices
from central.circulation.errors import CirculationError, Refused
from central.circulation.store import Store

log = logging.getLogger(__name__)
Security = Literal["none", "starttls", "ssl"]


class SmtpConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """How to reach the mail server; the password comes from the caller, never the database."""

    host: str
    port: int = 587
    security: Security = "starttls"
    username: str = ""
    password: str = ""
    cafile: str | None = None
    timeout: float = 30.0


class MailerError(CirculationError, OSError):
    """The mail server could not be used at all (unreachable, TLS, login)."""

    code = "smtp_unreachable"


def _connection_code(exc: BaseException) -> str:
    """The stable code of a failure that ends the whole run."""
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return "smtp_auth_failed"
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return "smtp_not_supported"
    if isinstance(exc, ssl.SSLError | ssl.CertificateError):
        return "smtp_tls_failed"
    return "smtp_unreachable"


def _message_code(exc: smtplib.SMTPException) -> str:
    """The stable code of a failure that concerns one message only."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "recipient_refused"
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return "sender_refused"
    return "smtp_rejected"


def connect(cfg: SmtpConfig) -> smtplib.SMTP:
    """An SMTP session, encrypted and logged in as configured; raises MailerError."""
    context = ssl.create_default_context(cafile=cfg.cafile)
    try:
        if cfg.security == "ssl":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(cfg.host, cfg.port, timeout=cfg.timeout,
                                                  context=context)
        else:
            smtp = smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout)
        try:
            if cfg.security == "starttls":
                smtp.starttls(context=context)
            if cfg.username:
                smtp.login(cfg.username, cfg.password)
        except BaseException:
            smtp.close()
            raise
    except (OSError, smtplib.SMTPException) as exc:
        raise MailerError(f"{cfg.host}:{cfg.port}: {exc}", code=_connection_code(exc)) from exc
    return smtp


def send(s: Store, cfg: SmtpConfig, branch: str | None = None,
         limit: int | None = None) -> dict:
    """Send pending e-mail notices (all kinds); return what was sent and what failed, by code."""
    todo = notices.pending(s, "email", branch, limit)
    report: dict[str, Any] = {"sent": 0, "failed": [], "withdrawn": []}
    if not todo:
        return report

    def failed(notice: dict, code: str) -> None:
        log.warning("notice %s (%s) not sent: %s", notice["id"], notice["kind"], code)
        report["failed"].append({"notice": notice["id"], "kind": notice["kind"], "code": code})

    try:
        smtp = connect(cfg)
    except MailerError as exc:
        for notice in todo:
            failed(notice, exc.code)
        return report
    try:
        for done, notice in enumerate(todo):
            if reason := notices.withdrawn(s, notice):
                report["withdrawn"].append({"notice": notice["id"], "kind": notice["kind"],
                                            "code": reason})
                continue
            try:
                msg = _compose(s, notice)
            except CirculationError as exc:
                failed(notice, exc.code)
                continue
            try:
                smtp.send_message(msg)
            except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused,
                    smtplib.SMTPDataError) as exc:
                failed(notice, _message_code(exc))
                continue
            except (OSError, smtplib.SMTPException) as exc:
                for rest in todo[done:]:
                    failed(rest, _connection_code(exc))
                break
            notices.mark_sent(s, [notice["id"]])
            report["sent"] += 1
    finally:
        _quit(smtp)
    return report


def _compose(s: Store, notice: dict) -> EmailMessage:
    """The notice's message; a notice that cannot be written raises with a stable code."""
    try:
        return letters.compose(notice, s.branch(notice["branch_id"]), s.settings.mail_from,
                               s.settings.currency, s.now())
    except CirculationError:
        raise
    except (KeyError, TypeError, ValueError) as exc:
        log.exception("notice %s cannot be written", notice["id"])
        raise Refused(f"notice {notice['id']}: {exc!r}", code="notice_malformed") from exc


def _quit(smtp: smtplib.SMTP) -> None:
    """Say goodbye to the server; a server that already left is fine."""
    try:
        smtp.quit()
    except (OSError, smtplib.SMTPException):
        smtp.close()
