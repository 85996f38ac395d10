"""The form archive at central without the network: starting forms on a pad, the archive's
checks and seal, `verify` catching tampering, the member's life cycle and retention."""

import base64
import hashlib
import json
import shutil
from datetime import UTC, datetime

import msgspec
import pytest
from hypothesis import given
from hypothesis import settings as settings_
from hypothesis import strategies as st
from pypdf import PdfReader

from central import fleet
from central.circulation import (
    audit,
    branches,
    events,
    form_archive,
    forms,
    lifecycle,
    patrons,
    seal,
    settings,
    terms,
)
from central.circulation.store import Store
from central.store import open_store
from edge_common import envelope
from edge_common.forms_hash import form_hash, strokes_json
from edge_common.protocol.backbone import DeviceStatus
from edge_common.protocol.forms import Form
from tests.circ import library, refused
from tests.signed_forms import form_pdf, signature, signed
from tests.test_circ_cli import run

PAD = "pad-1"


def set_online(s, dev: str, online: bool = True) -> None:
    """Record a device's status as central's service does when the device reports it."""
    body = envelope.encode(envelope.make("status", dev, DeviceStatus(online=online)))
    with s.atomic():
        s.db.execute("INSERT INTO device_status (dev, online, body, updated_at, since)"
                       " VALUES (?, ?, ?, '', '') ON CONFLICT (dev) DO UPDATE SET"
                       " online = excluded.online", [dev, online, body])


@pytest.fixture
def s(tmp_path):
    """A library with terms in two languages, an online pad at the centre and a patron."""
    s = library(tmp_path / "central.db")
    terms.add(s, "2026-1", {"en": "You will return what you borrow.",
                            "sl": "Izposojeno gradivo boste vrnili."})
    fleet.enrol(s.db, PAD, "center", "signpad")
    set_online(s, PAD)
    s.pid = patrons.add_patron(s, "Novak", "adult", branch="center", first_name="Ana",
                               birth_date="1980-05-01", address="Slovenska 1, Ljubljana",
                               email="ana@example.org", library_card="MK001")
    return s


def told(s, dev: str) -> list[tuple[str, dict]]:
    """The commands queued for a device, oldest first."""
    return [(name, json.loads(args)) for name, args in s.db.execute(
        "SELECT name, args FROM commands WHERE dev = ? ORDER BY issued_at, id", [dev])]


def archived(s, patron_id: int, kind: str = "change", staff: str = "desk") -> tuple[int, bytes]:
    """Start, sign and archive a form; its id and the PDF the pad made."""
    form_id = forms.start(s, patron_id, kind, PAD, staff)["id"]
    body = signed(forms.as_wire(s, forms.form(s, form_id)))
    with s.atomic():
        form_archive.archive(s, body, PAD)
    return form_id, base64.b64decode(body.pdf)


def test_a_form_starts_only_on_an_online_signpad_that_is_free(s):
    fleet.enrol(s.db, "kiosk-1", "center", "kiosk")
    set_online(s, "kiosk-1")
    refused("not_a_signpad", forms.start, s, s.pid, "change", "kiosk-1", "desk")
    refused("device_unknown", forms.start, s, s.pid, "change", "pad-9", "desk")
    set_online(s, PAD, False)
    refused("pad_offline", forms.start, s, s.pid, "change", PAD, "desk")
    set_online(s, PAD)
    pre = lifecycle.preregister(s, "Pan", "adult", "center")
    refused("form_not_for_patron", forms.start, s, pre, "renewal", PAD, "desk")
    refused("form_kind_unknown", forms.start, s, s.pid, "loan", PAD, "desk")
    started = forms.start(s, s.pid, "change", PAD, "desk")
    assert (started["state"], started["revision"], started["signers"]) == ("open", 1, ["patron"])
    assert {f["key"]: f["value"] for f in started["fields"]} == {
        "surname": "Novak", "first_name": "Ana", "birth_date": "1980-05-01",
        "address": "Slovenska 1, Ljubljana", "email": "ana@example.org",
        "category": "Adult", "library_card": "MK001",
        "valid_until": patrons.patron(s, s.pid)["valid_until"]}
    other = patrons.add_patron(s, "Kranjc", "adult", branch="center")
    refused("pad_busy", forms.start, s, other, "change", PAD, "desk")
    fleet.enrol(s.db, "pad-2", "center", "signpad")
    set_online(s, "pad-2")
    refused("form_open", forms.start, s, s.pid, "renewal", "pad-2", "desk")
    assert told(s, PAD) == [("form_show", {"form": started["id"], "revision": 1})]


def test_a_minor_signs_with_a_guardian_in_their_own_language(s):
    child = patrons.add_patron(s, "Kos", "child", branch="center", birth_date="2016-04-01",
                               language="sl")
    form = forms.as_wire(s, forms.form(s, forms.start(s, child, "change", PAD, "desk")["id"]))
    assert form.signers == ["patron", "guardian"] and form.lang == "sl"
    assert form.fields[0].label == "Priimek" and form.terms == "Izposojeno gradivo boste vrnili."
    forms.cancel(s, form.form, "desk")
    s.db.execute("UPDATE patron_categories SET guardian_under = 0 WHERE code = 'child'")
    s.forget()
    again = forms.start(s, child, "guardian_consent", PAD, "desk")
    assert again["signers"] == ["guardian"]
    forms.cancel(s, again["id"], "desk")
    assert forms.start(s, child, "change", PAD, "desk")["signers"] == ["patron"]


def test_a_correction_is_shown_to_the_desk_and_the_fix_is_a_new_revision(s):
    form_id = forms.start(s, s.pid, "change", PAD, "desk")["id"]
    refused("field_unknown", forms.ask_correction, s, form_id, 1, "shoe_size", PAD)
    refused("form_unknown", forms.ask_correction, s, form_id, 1, "address", "pad-2")
    with s.atomic():
        forms.ask_correction(s, form_id, 1, "address", PAD)
    assert [c["field"] for c in forms.show(s, form_id)["corrections"]] == ["address"]
    refused("field_not_editable", forms.fix, s, form_id, "library_card", "X", "desk")
    fixed = forms.fix(s, form_id, "address", "Slovenska 2, Ljubljana", "desk")
    assert fixed["revision"] == 2 and fixed["corrections"][0]["fixed_at"]
    assert {f["key"]: f["value"] for f in fixed["fields"]}["address"] == "Slovenska 2, Ljubljana"
    assert told(s, PAD)[-1] == ("form_show", {"form": form_id, "revision": 2})
    stale = signed(forms.as_wire(s, forms.form(s, form_id)))
    patrons.edit(s, s.pid, audit.Actor("desk", "center"), phone="041 000 000")
    refreshed = forms.refresh(s, form_id, "desk")          # an edit elsewhere, then re-render
    assert refreshed["revision"] == 3 and told(s, PAD)[-1][1]["revision"] == 3
    assert {f["key"]: f["value"] for f in refreshed["fields"]}["phone"] == "041 000 000"
    refused("form_revision_stale", form_archive.archive, s, stale, PAD)
    with s.atomic():
        assert form_archive.archive(s, signed(forms.as_wire(s, forms.form(s, form_id))),
                                    PAD) == form_id


def test_the_archive_refuses_a_bad_hash_missing_signer_and_a_second_submission(s, tmp_path):
    form_id = forms.start(s, s.pid, "change", PAD, "desk")["id"]
    form = forms.as_wire(s, forms.form(s, form_id))
    refused("hash_mismatch", form_archive.archive, s, signed(form, sha256="0" * 64), PAD,
            said="the SHA-256 does not match the PDF and strokes")
    refused("signature_missing", form_archive.archive, s, signed(form, ["guardian"]), PAD,
            said="the form is signed by patron, once each")
    refused("bad_pdf", form_archive.archive, s, signed(form, pdf=b"not a pdf"), PAD,
            said="the form is not a PDF")
    body = signed(form)                 # a byte outside base64 is refused, not skipped over
    stray = msgspec.structs.replace(body, pdf=f"{body.pdf[:100]}!{body.pdf[100:]}")
    refused("bad_pdf", form_archive.archive, s, stray, PAD, said="the PDF is not base64")
    refused("form_unknown", form_archive.archive, s, signed(form), "pad-2",
            said=f"form {form_id} is not on pad-2")
    good = form_pdf(form, [signature()])
    for broken in (b"%PDF-1.7 garbage", good[:len(good) // 2], good.replace(b"obj", b"jbo")):
        refused("pdf_unreadable", form_archive.archive, s, signed(form, pdf=broken), PAD)
    assert not (form_archive.root(s) / "active").exists()
    with s.atomic():
        form_archive.archive(s, signed(form), PAD)
    refused("form_archived", form_archive.archive, s, signed(form), PAD,
            said=f"form {form_id} is archived already")
    assert s.scalar("SELECT count(*) FROM form_archive") == 1
    assert patrons.patron(s, s.pid)["form_signed"] == 0       # a change form registers nobody


def test_a_member_registered_at_the_desk_signs_the_registration_form_on_the_pad(s):
    """Added at the desk with no form, the member signs the registration form on the pad
    later: archived, it counts as signed, and a second one is refused."""
    assert patrons.patron(s, s.pid)["form_signed"] == 0
    archived(s, s.pid, "registration")
    assert patrons.patron(s, s.pid)["form_signed"] == 1
    refused("form_already_signed", forms.start, s, s.pid, "registration", PAD, "desk")


def test_the_same_signer_twice_or_a_revision_newer_than_centrals_is_refused(s):
    """Two patron signatures are not a patron's and a guardian's (nor one patron's signing
    twice); a revision the desk never made is as stale as an old one. Nothing is archived."""
    adult = forms.start(s, s.pid, "change", PAD, "desk")["id"]
    form = forms.as_wire(s, forms.form(s, adult))
    assert form.signers == ["patron"]
    refused("signature_missing", form_archive.archive, s, signed(form, ["patron", "patron"]),
            PAD)
    newer = type(form)(**{**{f: getattr(form, f) for f in form.__struct_fields__},
                          "revision": form.revision + 1})
    refused("form_revision_stale", form_archive.archive, s, signed(newer), PAD,
            said=f"form {adult} is at revision 1, not 2")
    forms.cancel(s, adult, "desk")
    minor = patrons.add_patron(s, "Kos", "child", branch="center", birth_date="2016-01-01")
    both = forms.as_wire(s, forms.form(s, forms.start(s, minor, "change", PAD, "desk")["id"]))
    assert sorted(both.signers) == ["guardian", "patron"]
    for who in (["patron", "patron"], ["guardian", "guardian"], ["patron"],
                ["patron", "guardian", "guardian"]):
        refused("signature_missing", form_archive.archive, s, signed(both, who), PAD,
                said="the form is signed by patron, guardian, once each")
    assert s.scalar("SELECT count(*) FROM form_archive") == 0
    with s.atomic():
        assert form_archive.archive(s, signed(both, ["guardian", "patron"]), PAD) == both.form


def test_a_sealed_form_verifies_and_reads_back(s, tmp_path):
    form_id, pdf = archived(s, s.pid)
    assert form_archive.verify(s, form_id) == []
    sealed_pdf, strokes = form_archive.export(s, form_id, tmp_path / "out")
    assert sealed_pdf.read_bytes()[:len(pdf)] == pdf        # the pad's bytes, then the seal
    text = PdfReader(sealed_pdf).pages[0].extract_text()
    assert "Novak" in text and "Terms version 2026-1" in text
    assert json.loads(strokes.read_text())[0]["signer"] == "patron"
    out = run(tmp_path / "central.db", "form", "verify", "--form", str(form_id))
    assert "hash and seal verified" in out


def test_only_archived_files_are_verified_or_exported_and_a_missing_one_is_named(s, tmp_path):
    """An archive needs central in a file; a form never signed has nothing to verify or
    export; export makes the folder it is given (or adds to it) and names a file gone."""
    refused("bad_value", form_archive.root, Store(open_store(":memory:")),
            said="the form archive needs central's database in a file")
    form_id, _ = archived(s, s.pid)
    unsigned = forms.start(s, s.pid, "renewal", PAD, "desk")["id"]
    refused("form_not_archived", form_archive.verify, s, unsigned,
            said=f"form {unsigned} has no archived files")
    refused("form_not_archived", form_archive.export, s, unsigned, tmp_path / "none")
    to = tmp_path / "exports" / "2026"
    made = [to / f"form-{form_id}-form.pdf", to / f"form-{form_id}-strokes.json"]
    assert form_archive.export(s, form_id, to) == made
    assert form_archive.export(s, form_id, to) == made and len(list(to.iterdir())) == 2
    gone = form_archive.folder(s, form_archive.entry(s, form_id)) / "strokes.json"
    gone.unlink()
    refused("form_file_missing", form_archive.export, s, form_id, to, said=f"{gone} is missing")


def test_verify_catches_an_altered_byte_a_forged_reseal_and_swapped_strokes(s, tmp_path):
    form_id, pdf = archived(s, s.pid)
    where = form_archive.folder(s, form_archive.entry(s, form_id))
    good = (where / "form.pdf").read_bytes()
    altered = bytearray(good)
    altered[len(pdf) // 2] ^= 0x01
    (where / "form.pdf").write_bytes(bytes(altered))
    assert {"sealed_file_changed", "hash_mismatch", "seal_broken"} <= set(
        form_archive.verify(s, form_id))
    out = run(tmp_path / "central.db", "form", "verify", "--form", str(form_id), ok=False)
    assert "[sealed_file_changed]" in out
    forged_form = forms.as_wire(s, forms.form(s, form_id))
    forged_form = type(forged_form)(**{**{f: getattr(forged_form, f)
                                         for f in forged_form.__struct_fields__},
                                      "terms": "Nothing to return, ever."})
    forged = form_pdf(forged_form, [signature()])
    forger = seal.seal_key(tmp_path / "forger")
    (where / "form.pdf").write_bytes(seal.seal(forged, forger, "forged"))
    assert "seal_untrusted" in form_archive.verify(s, form_id)
    (where / "form.pdf").write_bytes(good)
    assert form_archive.verify(s, form_id) == []
    good_strokes = (where / "strokes.json").read_bytes()
    (where / "strokes.json").write_bytes(good_strokes.replace(b"[40,", b"[41,", 1))
    assert form_archive.verify(s, form_id) == ["hash_mismatch"]
    (where / "strokes.json").write_bytes(good_strokes)
    (where / "form.pdf").write_bytes(good + b"%appended\n")
    assert "sealed_file_changed" in form_archive.verify(s, form_id)
    (where / "form.pdf").unlink()
    assert form_archive.verify(s, form_id) == ["form_file_missing"]


def personal_values(s, *values: str) -> list[tuple[str, str]]:
    """Every (table, column) of the database where one of `values` still appears."""
    found = []
    for (table,) in s.db.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
        for row in s.rows(f"SELECT * FROM {table}"):
            for column, cell in row.items():
                text = cell.decode("utf-8", "replace") if isinstance(cell, bytes) else str(cell)
                if any(v in text for v in values):
                    found.append((table, column))
    return found


def test_the_forms_follow_the_member_to_the_archive_and_back_and_go_at_erasure(s, tmp_path):
    form_id, _ = archived(s, s.pid)
    renewal = forms.start(s, s.pid, "renewal", PAD, "desk")["id"]   # open, never signed
    with s.atomic():
        forms.ask_correction(s, renewal, 1, "address", PAD)
    lifecycle.archive(s, s.pid)
    assert forms.form(s, renewal)["state"] == "cancelled"
    assert form_archive.entry(s, form_id)["area"] == "archived"
    assert (form_archive.root(s) / "archived" / str(form_id) / "form.pdf").is_file()
    assert not (form_archive.root(s) / "active" / str(form_id)).exists()
    assert form_archive.verify(s, form_id) == []
    lifecycle.restore(s, s.pid)
    assert form_archive.entry(s, form_id)["area"] == "active"
    assert form_archive.verify(s, form_id) == []
    branches.add_staff(s, "sup", "Sup", "supervisor", ["center"])
    run(tmp_path / "central.db", "member", "erase", str(s.pid), "--branch", "center",
        "--staff", "sup", "--yes")
    left = [p for p in form_archive.root(s).rglob("*") if p.is_file()
            and form_archive.root(s) / "seal" not in p.parents]
    assert left == []
    assert personal_values(s, "Novak", "Ana", "Slovenska", "ana@example.org", "MK001",
                           "1980-05-01") == []
    assert [(r["kind"], r["state"], r["patron_id"]) for r in forms.listing(s)] == [
        ("renewal", "deleted", None), ("change", "deleted", None)]
    record = s.row("SELECT * FROM form_archive WHERE form_id = ?", [form_id])
    assert record["area"] == "erased" and record["deleted_at"] and record["kind"] == "change"
    assert record["sha256"] is None and record["path"] is None and record["signed_at"]
    assert s.scalar("SELECT count(*) FROM form_corrections") == 0
    refused("form_not_archived", form_archive.verify, s, form_id)


def test_archiving_or_erasing_the_member_tells_the_pad_showing_their_form(s):
    """The pad showing an open form is told (a new revision it fetches and finds closed) when
    the desk cancels it, when the member is archived and when they are erased."""
    branches.add_staff(s, "sup", "Sup", "supervisor", ["center"])
    for end in ("cancel", "archive", "erase"):
        if end == "erase":
            lifecycle.restore(s, s.pid)
        form_id = forms.start(s, s.pid, "change", PAD, "desk")["id"]
        if end == "cancel":
            forms.cancel(s, form_id, "desk")
        elif end == "archive":
            lifecycle.archive(s, s.pid)
        else:
            lifecycle.erase(s, s.pid, audit.Actor("sup", "center"))
        assert told(s, PAD)[-1] == ("form_show", {"form": form_id, "revision": 2}), end
        assert forms.form(s, form_id)["state"] in ("cancelled", "deleted")


def test_retention_deletes_signed_forms_of_each_kind_after_its_days(s):
    """Each kind goes after its own days, also when someone removed its files already."""
    consent, _ = archived(s, s.pid, "guardian_consent")
    change, _ = archived(s, s.pid, "change")
    settings.store(s.db, form_retention_days={"guardian_consent": 30, "change": 60})
    s.forget()
    assert lifecycle.cleanup(s)["forms_expired"] == 0
    shutil.rmtree(form_archive.folder(s, form_archive.entry(s, consent)))
    s.clock.advance(days=31)
    assert lifecycle.cleanup(s)["forms_expired"] == 1
    assert s.scalar("SELECT area FROM form_archive WHERE form_id = ?", [consent]) == "retention"
    assert form_archive.verify(s, change) == []
    s.clock.advance(days=30)
    assert lifecycle.cleanup(s)["forms_expired"] == 1
    assert s.scalar("SELECT area FROM form_archive WHERE form_id = ?", [change]) == "retention"


def test_terms_versions_and_events(s):
    refused("already_exists", terms.add, s, "2026-1", {"en": "again"})
    refused("terms_english_missing", terms.add, s, "2026-2", {"sl": "samo slovensko"})
    refused("bad_language", terms.add, s, "2026-2", {"en": "x", "xx": "y"})
    terms.add(s, "2026-2", {"en": "New terms."})
    assert terms.current(s) == "2026-2"
    assert [v["version"] for v in terms.versions(s)] == ["2026-2", "2026-1"]
    assert terms.text(s, "2026-2", "sl") == ("en", "New terms.")
    starts = datetime(2026, 12, 3, 17, 0, tzinfo=UTC)
    key = events.add(s, "center", "Story time", starts, "Children's corner")
    refused("bad_date", events.add, s, "center", "Naive", datetime(2026, 12, 3, 17, 0))
    refused("bad_language", events.add, s, "center", "Talk", starts, lang="xx")
    assert events.of_branch(s, "center")[key].title == "Story time"
    events.remove(s, "center", key)
    refused("event_unknown", events.remove, s, "center", key)


def test_the_shared_hash_covers_the_pdf_then_the_strokes_with_sorted_keys():
    sig = signature(strokes=1, points=2)
    assert strokes_json([sig]).startswith(b'[{"height":300,"signer":"patron","strokes":[[[40,')
    assert form_hash(b"%PDF-1.7", [sig]) == hashlib.sha256(
        b"%PDF-1.7" + strokes_json([sig])).hexdigest()
    assert form_hash(b"%PDF-1.7", [sig]) != form_hash(b"%PDF-1.7 ", [sig])


@settings_(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 1), st.integers(0, 255)), min_size=1, max_size=8))
def test_a_damaged_pdf_is_sealed_or_refused_with_a_code(tmp_path_factory, flips):
    """Bytes changed anywhere in a pad's PDF (its hash made over the damaged bytes) are
    either still a PDF central seals, or `pdf_unreadable`: never another failure."""
    pdf = bytearray(form_pdf(Form(form=1, revision=1, kind="change", lang="en", fields=[],
                                  terms_version="1", terms="Terms.", signers=["patron"],
                                  staff="desk"), [signature()]))
    for where, value in flips:
        pdf[min(len(pdf) - 1, int(where * len(pdf)))] = value
    key = seal.seal_key(tmp_path_factory.getbasetemp() / "damage-seal")
    try:
        sealed = seal.seal(bytes(pdf), key, "test")
    except seal.SealError:
        return
    assert sealed.startswith(bytes(pdf))


