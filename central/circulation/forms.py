"""Forms a patron checks and signs on a signing pad: started at the desk, rendered in the
patron's language with the current terms, corrected at the patron's request, then signed and
archived (`form_archive`).

A form's life: `open` (on its pad, revision 1, 2, … as the desk fixes what the patron flagged)
→ `signed` (sealed in the archive) or `cancelled`; `deleted` when the patron was erased or
its retention ran out (only the kind and dates remain).
"""

import json
from datetime import date
from typing import Any, get_args

from central import commands, fleet
from central.circulation import audit, branches, catalogue, patrons, terms
from central.circulation.ages import age_on
from central.circulation.errors import NotFound, Refused
from central.circulation.letters import LOCALE_DIR
from central.circulation.store import Store
from edge_common.catalogues import LANGUAGES, N_, translations
from edge_common.protocol.forms import Form, FormField, FormKind

KINDS: tuple[str, ...] = get_args(FormKind)
# the patron statuses each kind of form is for
FOR_STATUS = {"registration": ("pre", "active"), "renewal": ("active",), "change": ("active",),
              "guardian_consent": ("pre", "active")}
FIELDS = {
    "surname": N_("Surname"), "first_name": N_("First name"),
    "birth_date": N_("Date of birth"), "address": N_("Address"), "email": N_("E-mail"),
    "phone": N_("Phone"), "category": N_("Membership category"),
    "library_card": N_("Library card number"), "valid_until": N_("Membership valid until"),
}
SHOW_TTL = 300.0  # seconds a `form_show` command may wait for a pad that just went away


def _pad(s: Store, pad: str) -> str:
    """The branch of a signing pad that can take a new form now, or a refusal with the reason
    the desk is shown: unknown, not a signing pad, offline (its last status, or its will,
    said so), or busy with another open form."""
    found = fleet.enrolled(s.db, pad)
    if found is None:
        raise NotFound(f"no device {pad!r}", code="device_unknown")
    if found.kind != "signpad":
        raise Refused(f"{pad} is a {found.kind}, not a signing pad", code="not_a_signpad")
    if not found.online:
        raise Refused(f"{pad} is offline: a new form cannot start on it", code="pad_offline")
    busy = s.scalar("SELECT id FROM forms WHERE pad = ? AND state = 'open'", [pad])
    if busy is not None:
        raise Refused(f"{pad} shows form {busy}: cancel it or let it be signed first",
                      code="pad_busy")
    return found.site


def signers(s: Store, p: dict, kind: str, today: date) -> list[str]:
    """Who signs: the patron, and a guardian too when the patron is under the category's
    `guardian_under` age; a guardian's consent is signed by the guardian alone."""
    if kind == "guardian_consent":
        return ["guardian"]
    under = catalogue.patron_category(s, p["category"])["guardian_under"]
    minor = bool(p["birth_date"]) and under > 0 and \
        age_on(date.fromisoformat(p["birth_date"]), today) < under
    return ["patron", "guardian"] if minor else ["patron"]


def _fields(s: Store, p: dict, lang: str) -> list[dict[str, str]]:
    """The patron's data as the form lists it, labels in `lang` (empty values left out)."""
    tr = translations(LOCALE_DIR, "forms", lang).gettext
    values = dict(p, category=catalogue.patron_category(s, p["category"])["name"])
    return [{"key": key, "label": tr(label), "value": str(values[key])}
            for key, label in FIELDS.items() if values.get(key) not in (None, "")]


def _render(s: Store, p: dict, kind: str, branch: str) -> dict[str, Any]:
    """The columns a (re-)rendered form stores: language, fields, signers, terms version."""
    lang = p["language"] if p["language"] in LANGUAGES else "en"
    return {"lang": lang, "fields": json.dumps(_fields(s, p, lang), ensure_ascii=False),
            "signers": json.dumps(signers(s, p, kind, s.today(branch))),
            "terms_version": terms.current(s), "updated_at": s.now().isoformat()}


def _show(s: Store, form: dict) -> None:
    """Tell the form's pad (a signed command) to fetch the form's current revision."""
    commands.issue(s.db, form["pad"], "form_show",
                   {"form": form["id"], "revision": form["revision"]}, ttl=SHOW_TTL)


def start(s: Store, patron_id: int, kind: str, pad: str, staff_id: str) -> dict:
    """Start a form of `kind` for a patron on a signing pad of the staff member's branch and
    tell the pad; refused when the pad cannot take it (see `_pad`) or the patron has an open
    form already."""
    if kind not in KINDS:
        raise Refused(f"a form kind is one of {', '.join(KINDS)}", code="form_kind_unknown")
    p = patrons.patron(s, patron_id)
    if p["status"] not in FOR_STATUS[kind]:
        raise Refused(f"a {kind} form is for a patron who is {' or '.join(FOR_STATUS[kind])},"
                      f" not {p['status']}", code="form_not_for_patron")
    if kind == "registration" and p["form_signed"]:     # a member registered without one may
        raise Refused("the registration form is already signed", code="form_already_signed")
    branch = _pad(s, pad)
    branches.require_role(s, staff_id, branch, *branches.ROLES)
    if (other := s.scalar("SELECT id FROM forms WHERE patron_id = ? AND state = 'open'",
                          [patron_id])) is not None:
        raise Refused(f"the patron's form {other} is still open", code="form_open")
    now = s.now().isoformat()
    with s.atomic():
        form_id = s.add("forms", {"patron_id": patron_id, "kind": kind, "branch_id": branch,
                                     "pad": pad, "staff_id": staff_id, "state": "open",
                                     "created_at": now, "updated_at": now})
        s.update("forms", form_id, _render(s, p, kind, branch))
        audit.record(s, audit.Actor(staff_id, branch), "form.start", f"patron:{patron_id}",
                     None, {"form": form_id, "kind": kind, "pad": pad})
        _show(s, form(s, form_id))
    return show(s, form_id)


def form(s: Store, form_id: int) -> dict:
    """A form's row, or NotFound."""
    found = s.row("SELECT * FROM forms WHERE id = ?", [form_id])
    if found is None:
        raise NotFound(f"no form {form_id}", code="form_unknown")
    return found


def open_form(s: Store, form_id: int) -> dict:
    """A form that is still open, or a refusal saying it is closed."""
    found = form(s, form_id)
    if found["state"] != "open":
        raise Refused(f"form {form_id} is {found['state']}", code="form_closed")
    return found


def as_wire(s: Store, row: dict) -> Form:
    """An open form as its pad shows it."""
    lang, text = terms.text(s, row["terms_version"], row["lang"])
    return Form(form=row["id"], revision=row["revision"], kind=row["kind"], lang=row["lang"],
                fields=[FormField(**f) for f in json.loads(row["fields"])],
                terms_version=row["terms_version"], terms=text,
                signers=json.loads(row["signers"]), staff=row["staff_id"])


def pending(s: Store, pad: str) -> dict | None:
    """The open form waiting on a pad, if any."""
    return s.row("SELECT * FROM forms WHERE pad = ? AND state = 'open' ORDER BY id DESC",
                 [pad])


def ask_correction(s: Store, form_id: int, revision: int, field: str, pad: str) -> int:
    """Record that the patron flagged a field of a form shown on `pad` as wrong."""
    row = open_form(s, form_id)
    if row["pad"] != pad:
        raise NotFound(f"form {form_id} is not on {pad}", code="form_unknown")
    if field not in {f["key"] for f in json.loads(row["fields"])}:
        raise Refused(f"form {form_id} has no field {field!r}", code="field_unknown")
    return s.add("form_corrections", {"form_id": form_id, "revision": revision,
                                         "field": field, "asked_at": s.now().isoformat()})


def refresh(s: Store, form_id: int, staff_id: str) -> dict:
    """Render an open form again from the patron's data now (after an edit at the desk):
    its revision grows, the flagged fields count as fixed, and the pad is told."""
    row = open_form(s, form_id)
    branches.require_role(s, staff_id, row["branch_id"], *branches.ROLES)
    p = patrons.patron(s, row["patron_id"])
    with s.atomic():
        s.update("forms", form_id, _render(s, p, row["kind"], row["branch_id"])
                 | {"revision": row["revision"] + 1})
        s.db.execute("UPDATE form_corrections SET fixed_at = ? WHERE form_id = ?"
                       " AND fixed_at IS NULL", [s.now().isoformat(), form_id])
        _show(s, form(s, form_id))
    return show(s, form_id)


def fix(s: Store, form_id: int, field: str, value: str | None, staff_id: str) -> dict:
    """Change one of the patron's details on an open form (through the patron edit, which the
    audit log keeps) and show the new revision on the pad."""
    row = open_form(s, form_id)
    if field not in patrons.EDITABLE or field not in FIELDS:
        raise Refused(f"{field!r} is not a field staff can fix here", code="field_not_editable")
    with s.atomic():
        patrons.edit(s, row["patron_id"], audit.Actor(staff_id, row["branch_id"]),
                     **{field: value or None})
        return refresh(s, form_id, staff_id)


def cancel(s: Store, form_id: int, staff_id: str) -> dict:
    """Close an open form unsigned (the pad learns it when it next fetches the form)."""
    row = open_form(s, form_id)
    branches.require_role(s, staff_id, row["branch_id"], *branches.ROLES)
    with s.atomic():
        _cancel(s, row)
    return show(s, form_id)


def _cancel(s: Store, row: dict) -> None:
    """Cancel an open form as a new revision, and tell its pad (unless revoked since), which
    drops it from the screen."""
    now = s.now().isoformat()
    s.update("forms", row["id"], {"state": "cancelled", "closed_at": now, "updated_at": now,
                                  "revision": row["revision"] + 1})
    if fleet.command_key(s.db, row["pad"]) is not None:
        _show(s, form(s, row["id"]))


def close_open(s: Store, patron_id: int) -> None:
    """Cancel the patron's open form (the member is archived or erased), in the caller's
    transaction; its pad is told and clears the screen."""
    for row in s.rows("SELECT * FROM forms WHERE patron_id = ? AND state = 'open'", [patron_id]):
        _cancel(s, row)


def show(s: Store, form_id: int) -> dict:
    """A form as the desk sees it: its row, what it shows, the corrections asked and its
    archive entry."""
    row = form(s, form_id)
    for column in ("fields", "signers"):
        row[column] = json.loads(row[column]) if row[column] else None
    row["corrections"] = s.rows(
        "SELECT revision, field, asked_at, fixed_at FROM form_corrections WHERE form_id = ?"
        " ORDER BY id", [form_id])
    row["archive"] = s.row("SELECT * FROM form_archive WHERE form_id = ?", [form_id])
    return row


def listing(s: Store, patron_id: int | None = None, state: str | None = None,
            limit: int = 100) -> list[dict]:
    """Forms newest first, of one patron and/or in one state, with open corrections counted."""
    return s.rows(
        "SELECT f.id, f.patron_id, f.kind, f.state, f.revision, f.pad, f.staff_id,"
        " f.created_at, f.closed_at, a.area, (SELECT count(*) FROM form_corrections c"
        " WHERE c.form_id = f.id AND c.fixed_at IS NULL) AS corrections"
        " FROM forms f LEFT JOIN form_archive a ON a.form_id = f.id"
        " WHERE (? IS NULL OR f.patron_id = ?) AND (? IS NULL OR f.state = ?)"
        " ORDER BY f.id DESC LIMIT ?", [patron_id, patron_id, state, state, limit])
