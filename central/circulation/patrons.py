"""Patrons and their cards: the library identity, separate city-card identities, kiosk PINs."""

import hashlib
import hmac
import os
from datetime import date
from typing import Any

from central.circulation import allowlist, audit, bounds, branches, catalogue
from central.circulation.errors import NotFound, Refused
from central.circulation.folding import fold
from central.circulation.store import Store
from central.database import digits
from edge_common.readers import normalise_uid
from edge_common.readers.base import InvalidCardData

CARD_KINDS = ("city", "library")
NOTIFY = ("email", "sms", "letter", "none")
EDITABLE = {"surname", "first_name", "birth_date", "email", "phone", "address", "language",
            "notify", "note", "agreement", "category"}


def add_months(day: date, months: int) -> date:
    """`day` plus whole months, clamped to the month's last day."""
    y, m = divmod(day.month - 1 + months, 12)
    year, month = day.year + y, m + 1
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month, d)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def _check(fields: dict) -> None:
    if "surname" in fields and not (fields["surname"] or "").strip():
        raise Refused("a surname is required", code="surname_required")
    if fields.get("notify", "email") not in NOTIFY:
        raise Refused(f"notify is one of {', '.join(NOTIFY)}", code="bad_notify")
    if fields.get("birth_date") is not None:
        try:
            date.fromisoformat(fields["birth_date"])
        except (TypeError, ValueError) as exc:
            raise Refused("birth_date is YYYY-MM-DD", code="bad_date") from exc
    for name, value in fields.items():
        if isinstance(value, str):
            bounds.check_text(name, value)
    if fields.get("email"):
        bounds.check_email("email", fields["email"])
    if fields.get("language") is not None:
        bounds.check_language(fields["language"])


def add_patron(s: Store, surname: str, category: str, *, branch: str | None = None,
               status: str = "active", library_card: str | None = None, **fields: Any) -> int:
    """A patron (only the surname is required); active patrons get a membership period."""
    cat = catalogue.patron_category(s, category)
    _check({"surname": surname, **fields})
    if unknown := set(fields) - EDITABLE - {"is_staff", "legal_person", "blocked"}:
        raise Refused(f"unknown patron field {sorted(unknown)[0]!r}", code="bad_field")
    now = s.now()
    today = s.today(branch) if branch else now.date()
    values = {"surname": surname.strip(), "category": category, "status": status,
              **search_keys(surname=surname.strip(), **fields),
              "home_branch": branch, "registered_at": now.isoformat(),
              "legal_person": int(bool(cat["legal_person"])), **fields}
    if status == "active":      # signed is what the archive or a recorded paper form says
        values |= {"completed_at": now.isoformat(),
                   "valid_until": add_months(today, cat["membership_months"]).isoformat()}
    with s.atomic():
        pid = s.add("patrons", values)
        if library_card is not None:
            s.update("patrons", pid, {"library_card": library_card})
            add_card(s, pid, library_card, "library")
        if branch:
            s.count(branch, "new_members" if status == "active" else "preregistrations")
    return pid


def patron(s: Store, patron_id: int) -> dict:
    """A patron's row, or NotFound."""
    found = s.row("SELECT * FROM patrons WHERE id = ?", [patron_id])
    if found is None:
        raise NotFound(f"no patron {patron_id}", code="patron_unknown")
    return found


def update(s: Store, patron_id: int, **fields: Any) -> None:
    """Change a patron's details; doors and kiosks see the change through the allow-list."""
    patron(s, patron_id)
    if unknown := set(fields) - EDITABLE:
        raise Refused(f"unknown patron field {sorted(unknown)[0]!r}", code="bad_field")
    if "category" in fields:
        catalogue.patron_category(s, fields["category"])
    _check(fields)
    with s.atomic():
        s.update("patrons", patron_id, fields | search_keys(**fields))
        s.patron_changed(patron_id)


def search_keys(**fields: Any) -> dict[str, str | None]:
    """The folded search columns for the names among `fields` (kept beside each name, so a
    search is a plain comparison on any database)."""
    return {f"{k}_key": fold(fields[k]) for k in ("surname", "first_name") if k in fields}


def record_paper_form(s: Store, patron_id: int, actor: audit.Actor) -> dict:
    """Record that the patron signed the registration form on paper, in front of the named
    member of staff (who must work at the actor's branch); the form then counts as signed."""
    branches.require_role(s, actor.staff_id, actor.branch_id or "", *branches.ROLES)
    before = patron(s, patron_id)
    if before["status"] not in ("pre", "active"):
        raise Refused("only a current member signs a registration form", code="not_active")
    if before["form_signed"]:
        raise Refused("the registration form is already signed", code="form_already_signed")
    after = {"form_signed": 1, "paper_form_by": actor.staff_id,
             "paper_form_at": s.now().isoformat()}
    with s.atomic():
        s.update("patrons", patron_id, after)
        audit.record(s, actor, "patron.paper_form", f"patron:{patron_id}",
                     {"form_signed": 0}, after)
    return patron(s, patron_id)


def edit(s: Store, patron_id: int, actor: audit.Actor, **fields: Any) -> dict:
    """Change a patron's details as a staff member of the actor's branch; the audit log keeps
    what each changed field was before. Returns the fields that changed."""
    branches.require_role(s, actor.staff_id, actor.branch_id or "", *branches.ROLES)
    before = patron(s, patron_id)
    changed = {k: v for k, v in fields.items() if before.get(k) != v}
    if changed:
        with s.atomic():
            update(s, patron_id, **changed)
            audit.record(s, actor, "patron.edit", f"patron:{patron_id}",
                         {k: before.get(k) for k in changed}, changed)
    return changed


SEARCHABLE = ("surname", "first_name", "birth_date", "email", "phone")


def search(s: Store, limit: int = 50, **terms: str) -> list[dict]:
    """Patrons matching every term: names by their start, in any case and with or without
    diacritics; e-mail whole, in any case; the birth date exactly; the phone by its last
    digits, however it was written."""
    if set(terms) - set(SEARCHABLE):
        raise Refused(f"patrons are searched by {', '.join(SEARCHABLE)}", code="bad_field")
    given = {k: v.strip() for k, v in terms.items() if v and v.strip()}
    if not given or len(given) < len(terms):
        raise Refused("say what to search for in each term given", code="search_empty")
    _check({"birth_date": given.get("birth_date")})
    where, params = [], []
    for name, value in given.items():
        if name in ("surname", "first_name"):
            key = fold(value) or ""
            where.append(f"substr({name}_key, 1, ?) = ?")
            params += [len(key), key]
        elif name == "email":
            where.append("casefold(email) = ?")
            params.append(value.casefold())
        elif name == "phone":
            where.append("digits(phone) LIKE '%' || ?")
            params.append(digits(value))
        else:
            where.append("birth_date = ?")
            params.append(value)
    return s.rows(
        "SELECT id, surname, first_name, birth_date, email, phone, library_card, status,"
        f" home_branch FROM patrons WHERE {' AND '.join(where)} ORDER BY surname, first_name, id"
        " LIMIT ?", [*params, limit])




def card_uid(card: str, kind: str) -> str:
    """A card as it is stored: a city card's UID normalised, a library card's number as given."""
    if kind not in CARD_KINDS:
        raise Refused(f"card kind is one of {', '.join(CARD_KINDS)}", code="bad_card_kind")
    if kind == "library":
        if not card.strip() or len(card) > 64 or not card.isprintable():
            raise Refused("a library card number is 1 to 64 printable characters",
                          code="bad_card")
        return card
    try:
        return normalise_uid(card)
    except InvalidCardData as exc:
        raise Refused(str(exc), code="bad_card") from exc


def add_card(s: Store, patron_id: int, card: str, kind: str = "city") -> str:
    """Give a patron a card (a city-card UID or a library-card number); return the stored id."""
    uid = card_uid(card, kind)
    patron(s, patron_id)
    if s.scalar("SELECT 1 FROM cards WHERE uid = ?", [uid]):
        raise Refused("the card already belongs to a patron", code="card_taken")
    with s.atomic():
        s.db.execute("INSERT INTO cards VALUES (?, ?, ?, 1)", [uid, patron_id, kind])
        s.patron_changed(patron_id)
    return uid


def remove_card(s: Store, card: str, kind: str = "city") -> None:
    """Take a card away (lost or replaced): doors and kiosks stop knowing it."""
    uid = card_uid(card, kind)
    if not s.scalar("SELECT 1 FROM cards WHERE uid = ?", [uid]):
        raise NotFound("unknown card", code="card_unknown")
    with s.atomic():
        s.card_withdrawn(uid)
        s.db.execute("DELETE FROM cards WHERE uid = ?", [uid])


def by_card(s: Store, card: str, kind: str = "city") -> dict:
    """The patron holding a card."""
    pid = s.scalar("SELECT patron_id FROM cards WHERE uid = ? AND active = 1",
                   [card_uid(card, kind)])
    if pid is None:
        raise NotFound("unknown card", code="card_unknown")
    return patron(s, pid)


CARD_REFERENCES = {"card": "library", "city": "city"}
REFERENCES = ("id", *CARD_REFERENCES)


def find(s: Store, ref: str) -> int:
    """The patron staff name by id, library card number or city card UID (`id:`, `card:` or
    `city:` in front says which when one text could be several)."""
    prefix, colon, rest = ref.partition(":")
    kinds, value = ((prefix,), rest) if colon and prefix in REFERENCES else (REFERENCES, ref)
    value = value.strip()
    found: dict[int, str] = {}
    if "id" in kinds and value.isascii() and value.isdigit() and len(value) <= 18:
        if s.scalar("SELECT 1 FROM patrons WHERE id = ?", [int(value)]):
            found[int(value)] = f"id:{value}"
    for named, kind in CARD_REFERENCES.items():
        if named not in kinds:
            continue
        try:
            uid = card_uid(value, kind)
        except Refused:
            continue
        pid = s.scalar("SELECT patron_id FROM cards WHERE uid = ? AND kind = ? AND active = 1",
                       [uid, kind])
        if pid is not None:
            found.setdefault(pid, f"{named}:{uid}")
    if not found:
        raise NotFound(f"no patron {ref!r} (give an id, a library card number or a city card)",
                       code="patron_unknown")
    if len(found) > 1:
        which = ", ".join(f"patron {pid} ({how})" for pid, how in sorted(found.items()))
        raise Refused(f"{ref!r} names several patrons: {which}; say which with id:, card: or "
                      "city: in front", code="patron_ambiguous")
    return next(iter(found))


def by_card_hash(s: Store, site: str, hashed: str) -> dict:
    """The patron behind a card hash sent by a device at `site`."""
    uid = allowlist.card_of(s.db, site, hashed)
    pid = uid and s.scalar("SELECT patron_id FROM cards WHERE uid = ? AND active = 1", [uid])
    if not pid:
        raise NotFound("unknown card", code="card_unknown")
    return patron(s, pid)


def set_agreement(s: Store, patron_id: int, signed: bool, actor: audit.Actor) -> None:
    """Record that a patron signed the evening-hours agreement (or withdrew it): doors that
    require it admit them from the next list delta."""
    before = patron(s, patron_id)
    branches.require_role(s, actor.staff_id, actor.branch_id or "", *branches.ROLES)
    with s.atomic():
        s.update("patrons", patron_id, {"agreement": int(signed)})
        s.patron_changed(patron_id)
        audit.record(s, actor, "patron.agreement", f"patron:{patron_id}",
                     {"agreement": bool(before["agreement"])}, {"agreement": signed})


def set_blocked(s: Store, patron_id: int, blocked: bool, note: str | None = None,
                actor: audit.Actor | None = None) -> None:
    """Block (e.g. legal action) or unblock a patron everywhere: every branch and every door;
    as staff of the actor's branch, logged in the audit."""
    before = patron(s, patron_id)
    if actor:
        branches.require_role(s, actor.staff_id, actor.branch_id or "", *branches.ROLES)
    with s.atomic():     # the block's own note: the patron's note stays as it is
        s.update("patrons", patron_id, {"blocked": int(blocked),
                                        "block_note": note if blocked else None})
        s.patron_changed(patron_id)
        if actor:
            audit.record(s, actor, "patron.block" if blocked else "patron.unblock",
                         f"patron:{patron_id}", {"blocked": bool(before["blocked"]),
                                                 "note": before["block_note"]},
                         {"blocked": blocked, "note": note if blocked else None})


def _pin_hash(pin: str, salt: bytes) -> str:
    return salt.hex() + ":" + hashlib.scrypt(pin.encode(), salt=salt, n=2**14, r=8, p=1).hex()


def set_pin(s: Store, patron_id: int, pin: str | None) -> None:
    """Set (4–8 digits) or clear a patron's kiosk PIN, separate from any web password."""
    if pin is not None and not (pin.isdigit() and 4 <= len(pin) <= 8):
        raise Refused("a PIN is 4 to 8 digits", code="bad_pin")
    patron(s, patron_id)
    with s.atomic():
        s.update("patrons", patron_id,
                 {"pin_hash": _pin_hash(pin, os.urandom(16)) if pin else None})


def check_pin(s: Store, patron_id: int, pin: str) -> bool:
    """Whether `pin` is the patron's kiosk PIN (no PIN set: any answer is wrong)."""
    stored = patron(s, patron_id)["pin_hash"]
    if not stored or not isinstance(pin, str):
        return False
    return hmac.compare_digest(stored, _pin_hash(pin, bytes.fromhex(stored.split(":")[0])))
