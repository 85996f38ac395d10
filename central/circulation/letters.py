"""Notices as e-mail messages: subject and plain-text body per kind, From per branch.

Pure: a pending notice row (with the patron's fields, as `notices.pending` returns it), the
branch row and the sender in, an `email.message.EmailMessage` out, in the patron's language
(catalogues in central/locale, domain "letters"). A kiosk receipt arrives already written.
"""

import hashlib
from datetime import date, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from pathlib import Path
from typing import Any

from babel.dates import format_date
from babel.numbers import format_currency

from central.circulation.errors import Refused
from edge_common.catalogues import BABEL_LOCALES, N_, translations

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
DATES = ("due", "pickup_by", "valid_until")

SUBJECTS = {
    "hold_ready": N_("Your hold is ready for pickup"),
    "overdue": N_("Overdue notice {level}: please return your loan"),
    "due_soon": N_("A loan is due soon"),
    "membership": N_("Your library membership has expired"),
}
BODIES = {
    "hold_ready": N_("{title} ({barcode}) is waiting for you at {branch} until {pickup_by}."),
    "overdue": N_("{title} ({barcode}) was due on {due} and is {days_late} days late. Please "
                  "return it or renew it; a reminder fee may be charged."),
    "due_soon": N_("{title} is due on {due}. You can renew it at a kiosk, online or at the "
                   "desk."),
    "membership": N_("Your membership expired on {valid_until}. You can renew it at the desk "
                     "(fee {fee})."),
}
WITHOUT = {  # the same letters when the optional field is missing
    ("hold_ready", "pickup_by"): N_("{title} ({barcode}) is waiting for you at {branch}."),
    ("membership", "fee"): N_("Your membership expired on {valid_until}. You can renew it at "
                              "the desk."),
}
GREETING = N_("Dear {name},")
OTHER_SUBJECT = N_("A message from your library")


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


def _fields(body: dict, branch: dict, currency: str, locale: str) -> dict:
    """The notice's values as the patron's language writes dates and money."""
    fields: dict[str, Any] = {k: v for k, v in body.items()
                              if isinstance(v, str | int) and v != ""}
    for key in DATES:
        if key in fields:
            fields[key] = format_date(date.fromisoformat(str(fields[key])[:10]), "medium",
                                      locale=locale)
    if fields.get("fee"):
        fields["fee"] = format_currency(fields["fee"] / 100, currency, locale=locale)
    else:
        fields.pop("fee", None)
    return fields | {"branch": branch["name"]}


def _text(notice: dict, branch: dict, currency: str) -> tuple[str, str, str]:
    """(subject, body, language) of a notice."""
    body = notice["body"]
    kind = notice["kind"]
    if kind == "receipt":
        return body["subject"], "\n".join(line["text"] for line in body["lines"]), body["lang"]
    lang: str = notice["language"] if notice.get("language") in BABEL_LOCALES else "en"
    tr = translations(LOCALE_DIR, "letters", lang).gettext
    if kind not in SUBJECTS:
        return tr(OTHER_SUBJECT), "\n".join(f"{k}: {v}" for k, v in body.items()), lang
    fields = _fields(body, branch, currency, BABEL_LOCALES[lang])
    text = next((WITHOUT[k, f] for k, f in WITHOUT if k == kind and f not in fields),
                BODIES[kind])
    name = " ".join(x for x in ((notice["first_name"] or "").strip(), notice["surname"]) if x)
    return (tr(SUBJECTS[kind]).format(**fields),
            f"{tr(GREETING).format(name=name)}\n\n{tr(text).format(**fields)}", lang)


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
