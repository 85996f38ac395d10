"""Notices as e-mail messages: subject and plain-text body per kind, From per branch.

Pure: a pending notice row (with the patron's fields, as `notices.pending` returns it), the
branch row and the sender in, an `email.message.EmailMessage` out. A kiosk receipt arrives
already written in the patron's language; the other kinds are written here (English).
"""

import hashlib
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

from central.circulation.errors import Refused

SUBJECTS = {
    "hold_ready": "Your hold is ready for pickup",
    "overdue": "Overdue notice {level}: please return your loan",
    "due_soon": "A loan is due soon",
    "membership": "Your library membership has expired",
}
BODIES = {
    "hold_ready": "{title} ({barcode}) is waiting for you at {branch}{until}.",
    "overdue": "{title} ({barcode}) was due on {due} and is {days_late} days late. Please return "
               "it or renew it; a reminder fee may be charged.",
    "due_soon": "{title} is due on {due}. You can renew it at a kiosk, online or at the desk.",
    "membership": "Your membership expired on {valid_until}. You can renew it at the desk{fee}.",
}
OTHER_SUBJECT = "A message from your library"


def address(value: str | None, code: str) -> Address:
    """A single plain e-mail address (no display name, no header tricks), or Refused(code)."""
    text = (value or "").strip()
    name, addr = parseaddr(text)
    local, _, domain = addr.rpartition("@")
    if name or addr != text or not local or "." not in domain or any(
            c.isspace() or c in "<>,;\"\\" for c in addr):
        raise Refused("not a usable e-mail address", code=code)
    return Address(addr_spec=addr)


def sender(branch: dict, mail_from: str) -> Address:
    """The branch's own address, else the library's, under the branch's name."""
    chosen = branch.get("email") or mail_from
    if not chosen:
        raise Refused("no sender address: set the branch e-mail or mail_from",
                      code="no_sender")
    plain = address(chosen, "bad_sender")
    return Address(branch["name"], plain.username, plain.domain)


def _money(minor: int, currency: str) -> str:
    return f"{minor / 100:.2f} {currency}"


def _text(notice: dict, branch: dict, currency: str) -> tuple[str, str, str]:
    """(subject, body, language) of a notice."""
    body = notice["body"]
    kind = notice["kind"]
    if kind == "receipt":
        return body["subject"], "\n".join(line["text"] for line in body["lines"]), body["lang"]
    fields = {k: v for k, v in body.items() if isinstance(v, str | int)} | {
        "branch": branch["name"],
        "until": f" until {body['pickup_by']}" if body.get("pickup_by") else "",
        "fee": f" (fee {_money(body['fee'], currency)})" if body.get("fee") else ""}
    if kind not in SUBJECTS:
        return OTHER_SUBJECT, "\n".join(f"{k}: {v}" for k, v in body.items()), "en"
    first = (notice["first_name"] or "").strip()
    greeting = f"Dear {first} {notice['surname']}," if first else f"Dear {notice['surname']},"
    return (SUBJECTS[kind].format(**fields),
            f"{greeting}\n\n{BODIES[kind].format(**fields)}", "en")


def signature(branch: dict) -> str:
    """The branch's name and how to reach it."""
    return "\n".join(x for x in (branch["name"], branch.get("address"), branch.get("phone"),
                                 branch.get("email")) if x)


def compose(notice: dict, branch: dict, mail_from: str, currency: str,
            now: datetime) -> EmailMessage:
    """The e-mail for one pending notice; Refused with `no_email`, `bad_address` or
    `no_sender` when it cannot be addressed."""
    if not (notice["email"] or "").strip():
        raise Refused("the patron has no e-mail address", code="no_email")
    to = address(notice["email"], "bad_address")
    frm = sender(branch, mail_from)
    subject, text, lang = _text(notice, branch, currency)
    msg = EmailMessage()
    msg["From"] = frm
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(now)
    digest = hashlib.sha256(notice["key"].encode()).hexdigest()[:32]
    msg["Message-ID"] = f"<notice-{digest}@{frm.domain}>"
    msg.set_content(f"{text}\n\n-- \n{signature(branch)}\n", cte="quoted-printable")
    msg["Content-Language"] = lang  # after set_content, which clears Content-* headers
    return msg
