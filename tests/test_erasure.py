"""What erasure and the cleanup of unfinished registrations leave behind at central: nothing of
the person in the audit log, the stored device answers, holds, or anywhere in the store."""

from central import fleet
from central.circulation import audit, device_api, holds, lifecycle, loans, patrons  # noqa: F401
from central.circulation.store import Store
from central.ingest import Applier
from central.store import open_store
from tests.circ import DESK, copy, install, library
from tests.privacy import Person, file_traces, store_text, traces
from tests.test_circ_cli import run
from tests.test_ingest import msg

HORVAT = Person(surname="Horvat", first_name="Petra", email="petra.horvat@example.org",
                phone="041 555 777", address="Trubarjeva 7, Ljubljana", birth_date="1984-02-29",
                city_card="04CAFEBABE77", library_card="MK-4477")


def test_every_staff_action_on_a_patron_is_logged_under_them_so_erasure_forgets_it(tmp_path):
    """`patron add` with every field, an edit, card block and unblock: logged under the
    patron (never `patron:` or the card's UID), so erasure leaves no value of them."""
    db, p = tmp_path / "central.db", HORVAT
    run(db, "init", "--admin", "boss")
    run(db, "category", "install-basics")
    run(db, "branch", "add", "center", "Central Library")
    run(db, "staff", "add", "maja", "Maja", "--branch", "center")
    run(db, "patron", "add", p.surname, "--branch", "center", "--first-name", p.first_name,
        "--birth-date", p.birth_date, "--email", p.email, "--phone", p.phone,
        "--library-card", p.library_card, "--city-card", p.city_card, "--staff", "maja")
    run(db, "patron", "edit", "1", "--address", p.address, "--branch", "center",
        "--staff", "maja")
    run(db, "card", "block", "04:ca:fe:ba:be:77", "--note", "lost")
    run(db, "card", "unblock", p.city_card)
    run(db, "patron", "card", "1", p.library_card, "--kind", "library", "--remove")
    subjects = {(e["action"], e["subject"]) for e in audit.entries(Store(open_store(str(db))))}
    assert {("patron.add", "patron:1"), ("card.block", "patron:1"),
            ("card.unblock", "patron:1"), ("patron.card", "patron:1")} <= subjects
    assert traces(store_text(db), p)        # the search finds them before the erasure
    run(db, "member", "erase", "1", "--branch", "center", "--staff", "boss", "--yes")
    assert traces(store_text(db), p) == []
    assert file_traces(tmp_path, p) == []   # nor in freed pages or the write-ahead log


def test_cleanup_forgets_what_the_audit_kept_of_the_registrations_it_deletes(tmp_path):
    """A stale online registration edited at the desk: cleanup deletes it and every value the
    audit log kept of it."""
    s, p = library(tmp_path / "c.db"), HORVAT
    pid = lifecycle.preregister(s, p.surname, "adult", "center", first_name=p.first_name,
                                birth_date=p.birth_date, phone=p.phone)
    patrons.edit(s, pid, DESK, email=p.email, address=p.address)
    s.clock.advance(days=60)
    assert lifecycle.cleanup(s, 30)["deleted"] == [pid]
    assert [e["action"] for e in audit.entries(s, subject=f"patron:{pid}")] == ["patron.edit"]
    assert traces(store_text(tmp_path / "c.db"), p) == []
    assert file_traces(tmp_path, p) == []


def test_erasure_cuts_holds_from_the_patron_and_blanks_their_name_in_stored_answers(tmp_path):
    """A return box's check-in answered with a hold slip for Petra H.: after her erasure no
    hold names her, and the kept answer (a retry gets it again, with no second effect) does
    not either."""
    s, p = install(Store(open_store(str(tmp_path / "c.db"))), [("main", "Main")]), HORVAT
    fleet.enrol(s.db, "box-1", "main", "returnbox")
    pid = patrons.add_patron(s, p.surname, "adult", branch="main", first_name=p.first_name)
    other = patrons.add_patron(s, "Kos", "adult", branch="main")
    copy(s, "H1", "Alamut", "main")
    loans.checkout(s, other, "H1", "main")
    holds.place(s, pid, "H1", "main")
    checkin = msg("loan.checkin", {"item": "H1"}, dev="box-1", channel="req",
                  response_topic="lib/v1/dev/box-1/res")
    applier = Applier(s.db)
    [(_, answer)] = applier.apply([checkin]).responses
    assert answer.result.hold_for == p.hold_name()
    lifecycle.erase(s, pid)
    assert s.scalar("SELECT count(*) FROM holds WHERE patron_id = ?", [pid]) == 0
    [(_, again)] = applier.apply([checkin]).responses
    assert again.result["hold_for"] == "" and again.result["route"] == "hold_shelf"
    assert s.scalar("SELECT count(*) FROM loans WHERE returned_at IS NOT NULL") == 1
    assert traces(store_text(tmp_path / "c.db"), p) == []


def test_a_deleted_value_leaves_no_bytes_in_the_store_files(tmp_path):
    """A row deleted among others and the store scrubbed: its bytes are in neither the
    database file (freed space is zeroed) nor the write-ahead log."""
    s = Store(open_store(str(tmp_path / "c.db")))
    s.db.execute("CREATE TABLE notes (text TEXT)")
    with s.atomic():
        for n in range(100):
            s.db.execute("INSERT INTO notes VALUES (?)", [f"note {n}"])
        s.db.execute("INSERT INTO notes VALUES (?)", [HORVAT.email])
    assert s.scrub()
    assert file_traces(tmp_path, HORVAT)
    with s.atomic():
        s.db.execute("DELETE FROM notes WHERE text = ?", [HORVAT.email])
    assert s.scrub()
    assert file_traces(tmp_path, HORVAT) == []
