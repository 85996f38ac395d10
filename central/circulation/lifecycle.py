"""A patron's life: online pre-registration, completion at a desk, renewal, cleanup of
unfinished registrations, archive and restore, anonymised history, and erasure.

Erasure keeps a tombstone row (status `erased`, every personal column emptied) so that the
books still balance: debts and payments keep their amounts but name nobody.
"""

import logging
from datetime import date, timedelta
from typing import Any

from central import ingest
from central.circulation import (
    accounts,
    audit,
    branches,
    catalogue,
    form_archive,
    forms,
    holds,
    patrons,
    summary,
)
from central.circulation.errors import Refused
from central.circulation.store import Store

log = logging.getLogger(__name__)

PERSONAL = ("first_name", "birth_date", "email", "phone", "address", "language", "note",
            "pin_hash", "library_card", "registered_at", "completed_at", "archived_at",
            "valid_until", "home_branch", "block_note", "surname_key", "first_name_key",
            "paper_form_by", "paper_form_at")


def _fee_once(s: Store, p: dict, branch: str, kind: str, ref: str) -> None:
    fee = catalogue.patron_category(s, p["category"])["fee"]
    if fee and not s.scalar("SELECT 1 FROM debts WHERE ref = ?", [ref]):
        accounts.add_debt(s, p["id"], branch, kind, fee, note=f"{kind} fee", ref=ref)


def preregister(s: Store, surname: str, category: str, branch: str, **fields: Any) -> int:
    """Register online, any category; the registration fee is owed from now on."""
    with s.atomic():
        pid = patrons.add_patron(s, surname, category, branch=branch, status="pre", **fields)
        _fee_once(s, patrons.patron(s, pid), branch, "registration", f"registration:{pid}")
    return pid


def complete(s: Store, patron_id: int, branch: str, staff_id: str,
             paper_form: bool = False) -> dict:
    """Finish a pre-registration at the desk: membership starts, the card works at doors. The
    form counts as signed once the pad's form is archived, or here when the clerk records a
    paper form (`paper_form`)."""
    branches.require_role(s, staff_id, branch, *branches.ROLES)
    p = patrons.patron(s, patron_id)
    if p["status"] != "pre":
        raise Refused("the registration is already complete", code="not_preregistered")
    months = catalogue.patron_category(s, p["category"])["membership_months"]
    with s.atomic():
        s.update("patrons", patron_id, {
            "status": "active", "completed_at": s.now().isoformat(), "home_branch": branch,
            "valid_until": patrons.add_months(s.today(branch), months).isoformat()})
        _fee_once(s, p, branch, "registration", f"registration:{patron_id}")
        if paper_form and not p["form_signed"]:
            patrons.record_paper_form(s, patron_id, audit.Actor(staff_id, branch))
        s.patron_changed(patron_id)
        s.count(branch, "new_members")
    return patrons.patron(s, patron_id)


def renew_membership(s: Store, patron_id: int, branch: str) -> dict:
    """Extend the membership by the category's period from today or its end, with the fee
    (none again if the expiry already charged it)."""
    p = patrons.patron(s, patron_id)
    if p["status"] != "active":
        raise Refused("only active members can renew", code="not_active")
    today = s.today(branch)
    start = max(today, date.fromisoformat(p["valid_until"])) if p["valid_until"] else today
    until = patrons.add_months(start, catalogue.patron_category(s, p["category"])
                               ["membership_months"])
    with s.atomic():
        if not s.scalar("SELECT 1 FROM debts WHERE ref = ?",
                        [f"membership:{patron_id}:{p['valid_until']}"]):
            _fee_once(s, p, branch, "membership", f"membership:{patron_id}:renew:{until}")
        s.update("patrons", patron_id, {"valid_until": until.isoformat()})
        s.patron_changed(patron_id)
        s.count(branch, "renewed_members")
    return patrons.patron(s, patron_id)


def _keep_reason(s: Store, p: dict) -> str | None:
    """Why a pre-registration is no unfinished one to delete (None: it is)."""
    if p["completed_at"]:
        return "completed"
    if p["form_signed"] or s.scalar("SELECT 1 FROM form_archive WHERE patron_id = ?",
                                    [p["id"]]):
        return "signed"
    if s.scalar("SELECT 1 FROM loans WHERE patron_id = ?", [p["id"]]):
        return "borrowed"
    if s.scalar("SELECT 1 FROM payments WHERE patron_id = ?", [p["id"]]):
        return "paid"
    return None


def _forget(s: Store, p: dict) -> None:
    """Remove every trace of a patron but their own row (erased or deleted by the caller), in
    the caller's transaction: cards (devices drop them), holds, notices, forms (the pad
    showing one is told), what the audit log and the stored device answers kept of them."""
    patron_id = p["id"]
    for (uid, kind) in s.db.execute("SELECT uid, kind FROM cards WHERE patron_id = ?",
                                      [patron_id]).fetchall():
        patrons.remove_card(s, uid, kind)
    _cancel_holds(s, patron_id)
    s.db.execute("DELETE FROM notices WHERE patron_id = ?", [patron_id])
    forms.close_open(s, patron_id)
    form_archive.erase_patron(s, patron_id)
    audit.forget(s, f"patron:{patron_id}")
    ingest.scrub(s.db, [summary.display_name(p), p["surname"], p["first_name"], p["email"],
                        p["phone"], p["address"]])
    anonymise_loans(s, patron_id=patron_id)
    s.db.execute("UPDATE holds SET patron_id = NULL WHERE patron_id = ?", [patron_id])
    s.db.execute("UPDATE ib_loans SET patron_id = NULL WHERE patron_id = ? AND state = 'closed'",
                   [patron_id])


def _cancel_holds(s: Store, patron_id: int) -> None:
    for h in s.rows("SELECT id FROM holds WHERE patron_id = ? AND state IN"
                    " ('waiting', 'in_transit', 'ready')", [patron_id]):
        holds.cancel(s, h["id"])


def cleanup(s: Store, older_than_days: int | None = None) -> dict:
    """Delete unfinished registrations older than N days (default: the setting), never one
    who completed registration, signed a form, borrowed or paid; their unpaid fees and open
    forms go with them.
    Signed forms whose kind's retention is over are deleted too."""
    days = s.settings.cleanup_after_days if older_than_days is None else older_than_days
    if days < 1:
        raise Refused("only registrations unfinished for at least a day are deleted",
                      code="bad_days")
    cutoff = (s.now() - timedelta(days=days)).isoformat()
    done: dict[str, Any] = {"deleted": [], "skipped": []}
    with s.atomic():
        for p in s.rows("SELECT * FROM patrons WHERE status = 'pre' AND registered_at < ?",
                        [cutoff]):
            if reason := _keep_reason(s, p):
                done["skipped"].append({"id": p["id"], "reason": reason})
                continue
            _forget(s, p)
            s.db.execute("DELETE FROM debts WHERE patron_id = ?", [p["id"]])
            s.db.execute("DELETE FROM patrons WHERE id = ?", [p["id"]])
            done["deleted"].append(p["id"])
        done["forms_expired"] = form_archive.expire(s)
    _scrub(s)
    return done


def _scrub(s: Store) -> None:
    """Leave no earlier version of what was just deleted in the store's files."""
    if not s.scrub():
        log.warning("scrub_pending: a reader held the write-ahead log; deleted values stay in"
                    " it until its next full checkpoint")


def _no_open_loans(s: Store, patron_id: int) -> None:
    if s.scalar("SELECT 1 FROM loans WHERE patron_id = ? AND returned_at IS NULL", [patron_id]):
        raise Refused("the patron still has loans", code="loans_open")


def archive(s: Store, patron_id: int) -> None:
    """Delete a patron into the archive (only with every loan returned); cards stop working,
    their signed forms move to the form archive's archived area."""
    p = patrons.patron(s, patron_id)
    if p["status"] != "active":
        raise Refused("only active patrons are archived", code="not_active")
    _no_open_loans(s, patron_id)
    with s.atomic():
        _cancel_holds(s, patron_id)
        s.update("patrons", patron_id, {"status": "archived", "archived_at": s.now().isoformat()})
        s.patron_changed(patron_id)
        form_archive.move(s, patron_id, "archived")


def restore(s: Store, patron_id: int) -> None:
    """Bring an archived patron back with their cards and signed forms."""
    if patrons.patron(s, patron_id)["status"] != "archived":
        raise Refused("the patron is not archived", code="not_archived")
    with s.atomic():
        s.update("patrons", patron_id, {"status": "active", "archived_at": None})
        s.patron_changed(patron_id)
        form_archive.move(s, patron_id, "active")


def anonymise_loans(s: Store, before: date | None = None, patron_id: int | None = None) -> int:
    """Cut returned loans from their borrower (all, older than `before`, or one patron's)."""
    with s.atomic():
        return s.db.execute(
            "UPDATE loans SET patron_id = NULL WHERE returned_at IS NOT NULL"
            " AND patron_id IS NOT NULL AND (? IS NULL OR returned_at < ?)"
            " AND (? IS NULL OR patron_id = ?)",
            [before and before.isoformat(), before and before.isoformat(), patron_id,
             patron_id]).rowcount


def erase(s: Store, patron_id: int, actor: audit.Actor | None = None) -> None:
    """Remove a patron's personal data everywhere — the values the audit log and the stored
    device answers kept of them too, their forms and the forms' files, and whom their holds
    and loans were for; device caches drop their cards, a pad showing their form drops it.
    Staff need to be a supervisor or administrator."""
    p = patrons.patron(s, patron_id)
    if actor:
        branches.require_role(s, actor.staff_id, actor.branch_id or "", "supervisor", "admin")
    _no_open_loans(s, patron_id)
    with s.atomic():
        _forget(s, p)
        if actor:
            audit.record(s, actor, "patron.erase", f"patron:{patron_id}")
        s.update("patrons", patron_id, {c: None for c in PERSONAL} | {
            "surname": "", "status": "erased", "blocked": 0, "agreement": 0, "form_signed": 0})
    _scrub(s)
