"""The form archive: signed forms checked against their hash, sealed with the library's key
and kept as files (the sealed PDF and the raw strokes) beside central's database, following
the patron's life: archived with the member, restored with them, deleted at erasure or when
the kind's retention ends (a record that a form existed stays, with no personal data).

Layout: `<db folder>/<db name>-forms/{seal,active,archived}/`, one folder per form.
"""

import base64
import binascii
import hashlib
import json
import os
import shutil
from datetime import datetime, timedelta
from pathlib import Path

from central.circulation import forms, seal
from central.circulation.errors import NotFound, Refused
from central.circulation.store import Store
from edge_common.files import write_private
from edge_common.forms_hash import form_hash, strokes_json
from edge_common.protocol.forms import Signed

AREAS = ("active", "archived")
PDF, STROKES = "form.pdf", "strokes.json"


def root(s: Store) -> Path:
    """The archive's folder: the one the settings name, or beside a SQLite store's file."""
    if s.settings.archive_dir:
        return Path(s.settings.archive_dir)
    if s.db.postgres:
        raise Refused("a store on PostgreSQL keeps signed forms in a folder named by"
                      " `libedge admin settings archive_dir=/srv/libedge/forms`",
                      code="archive_unset")
    if s.db.target in ("", ":memory:") or s.db.target.startswith("file:"):
        raise Refused("the form archive needs central's database in a file", code="bad_value")
    db = Path(s.db.target)
    return db.parent / f"{db.stem}-forms"


def seal_key(s: Store) -> seal.SealKey:
    """The library's seal (made on first use)."""
    return seal.seal_key(root(s) / "seal")


def folder(s: Store, entry: dict) -> Path:
    """Where an archive entry's files are (its area's folder)."""
    return root(s) / entry["area"] / entry["path"]


def entry(s: Store, form_id: int) -> dict:
    """A form's archive row, or NotFound."""
    found = s.row("SELECT * FROM form_archive WHERE form_id = ?", [form_id])
    if found is None or found["area"] not in AREAS:
        raise NotFound(f"form {form_id} has no archived files", code="form_not_archived")
    return found


def archive(s: Store, body: Signed, pad: str) -> int:
    """Check a signed form from its pad (the hash over PDF and strokes, the revision it was
    shown at, still open) and keep it sealed; the caller's transaction makes it once."""
    row = forms.form(s, body.form)
    if row["pad"] != pad:
        raise NotFound(f"form {body.form} is not on {pad}", code="form_unknown")
    if row["state"] == "signed":
        raise Refused(f"form {body.form} is archived already", code="form_archived")
    forms.open_form(s, body.form)
    if body.revision != row["revision"]:
        raise Refused(f"form {body.form} is at revision {row['revision']}, not"
                      f" {body.revision}", code="form_revision_stale")
    needed = json.loads(row["signers"])
    if sorted(needed) != sorted(sig.signer for sig in body.signatures):
        raise Refused(f"the form is signed by {', '.join(needed)}, once each",
                      code="signature_missing")
    try:
        pdf = base64.b64decode(body.pdf, validate=True)
    except (binascii.Error, ValueError):
        raise Refused("the PDF is not base64", code="bad_pdf") from None
    if not pdf.startswith(b"%PDF-"):
        raise Refused("the form is not a PDF", code="bad_pdf")
    if form_hash(pdf, body.signatures) != body.sha256:
        raise Refused("the SHA-256 does not match the PDF and strokes", code="hash_mismatch")
    sealed = seal.seal(pdf, seal_key(s), f"form {body.form} ({row['kind']}) archived")
    path = str(body.form)
    target = root(s) / "active" / path
    write_private(target / PDF, sealed)
    write_private(target / STROKES, strokes_json(body.signatures))
    now = s.now().isoformat()
    with s.atomic():
        s.insert("form_archive", {
            "form_id": body.form, "patron_id": row["patron_id"], "kind": row["kind"],
            "terms_version": row["terms_version"], "signed_at": body.signed_at.isoformat(),
            "archived_at": now, "pad": pad, "staff_id": row["staff_id"],
            "sha256": body.sha256, "sealed_sha256": hashlib.sha256(sealed).hexdigest(),
            "pdf_bytes": len(pdf), "path": path, "area": "active"})
        s.update("forms", body.form, {"state": "signed", "closed_at": now, "updated_at": now})
        if row["kind"] == "registration":
            s.update("patrons", row["patron_id"], {"form_signed": 1})
    return body.form


def verify(s: Store, form_id: int) -> list[str]:
    """Check an archived form again: its files are there, the sealed file is the one stored,
    the original PDF and the strokes still give the hash the pad sent, and the seal is the
    library's and covers the whole file. Returns the problems as codes (none: all good)."""
    found = entry(s, form_id)
    where = folder(s, found)
    try:
        sealed, strokes = (where / PDF).read_bytes(), (where / STROKES).read_bytes()
    except FileNotFoundError:
        return ["form_file_missing"]
    out = []
    if hashlib.sha256(sealed).hexdigest() != found["sealed_sha256"]:
        out.append("sealed_file_changed")
    original = hashlib.sha256(sealed[:found["pdf_bytes"]])
    original.update(strokes)
    if original.hexdigest() != found["sha256"]:
        out.append("hash_mismatch")
    return out + seal.problems(sealed, seal_key(s))


def export(s: Store, form_id: int, to: Path) -> list[Path]:
    """Copy an archived form's sealed PDF and strokes into the folder `to`."""
    where = folder(s, entry(s, form_id))
    to.mkdir(parents=True, exist_ok=True)
    out = []
    for name in (PDF, STROKES):
        target = to / f"form-{form_id}-{name}"
        try:
            shutil.copyfile(where / name, target)
        except FileNotFoundError:
            raise NotFound(f"{where / name} is missing", code="form_file_missing") from None
        out.append(target)
    return out


def move(s: Store, patron_id: int, area: str) -> None:
    """Move a patron's archived forms to `area` (archived with the member, or back to active
    at restore), in the caller's transaction. A form still open when the member is archived
    is cancelled (its pad is told, and drops it)."""
    if area == "archived":
        forms.close_open(s, patron_id)
    for found in s.rows("SELECT * FROM form_archive WHERE patron_id = ? AND area IN"
                        " ('active', 'archived') AND area != ?", [patron_id, area]):
        source, target = folder(s, found), root(s) / area / found["path"]
        if source.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(source, target)
        s.update("form_archive", found["form_id"], {"area": area}, column="form_id")


def delete(s: Store, form_ids: list[int], reason: str) -> int:
    """Delete forms' files and every personal part of their rows, keeping that a form of its
    kind existed, when, and why it went (`erased` or `retention`); in the caller's
    transaction. Returns how many were deleted."""
    now = s.now().isoformat()
    for form_id in form_ids:
        found = s.row("SELECT * FROM form_archive WHERE form_id = ?", [form_id])
        if found and found["area"] in AREAS:
            shutil.rmtree(folder(s, found), ignore_errors=True)
            s.update("form_archive", form_id, {
                "patron_id": None, "terms_version": None, "pad": None, "staff_id": None,
                "sha256": None, "sealed_sha256": None, "pdf_bytes": None, "path": None,
                "area": reason, "deleted_at": now}, column="form_id")
        s.db.execute("DELETE FROM form_corrections WHERE form_id = ?", [form_id])
        s.update("forms", form_id, {
            "patron_id": None, "pad": None, "staff_id": None, "lang": None, "fields": None,
            "signers": None, "terms_version": None, "state": "deleted", "updated_at": now,
            "closed_at": now})
    return len(form_ids)


def erase_patron(s: Store, patron_id: int) -> int:
    """Delete every form of an erased patron (caller's transaction)."""
    ids = [r["id"] for r in s.rows("SELECT id FROM forms WHERE patron_id = ?", [patron_id])]
    return delete(s, ids, "erased")


def expire(s: Store, now: datetime | None = None) -> int:
    """Delete signed forms whose kind's retention (setting `form_retention_days`) is over."""
    now = now or s.now()
    ids: list[int] = []
    for kind, days in s.settings.form_retention_days.items():
        cutoff = (now - timedelta(days=days)).isoformat()
        ids += [r["form_id"] for r in s.rows(
            "SELECT form_id FROM form_archive WHERE kind = ? AND area IN ('active', 'archived')"
            " AND archived_at < ?", [kind, cutoff])]
    with s.atomic():
        return delete(s, ids, "retention")
