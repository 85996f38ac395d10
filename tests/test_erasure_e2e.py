"""After a day that used every feature — registration with every field, cards, a door, the kiosk
(loan, payment, e-mailed receipt), a hold filled through the return box, forms on a signing
pad, blocks, the audit log — `member erase` leaves no value of the person in central's store,
the form archive, any device's files, the broker's, or the log; and the pad that showed their
open form no longer does."""

import logging
import time

import pytest

from central.circulation import branches, form_archive, terms
from central.circulation.store import Store
from edge_common.cardid import card_hash
from edge_common.protocol.datasets import ALLOWLIST
from kiosk.central_backend import CentralBackend
from kiosk.receipt import Line
from signpad.daemon import Signpad
from signpad.flow import Screen
from tests import boxes
from tests.circ import site_library
from tests.harness import wait_for
from tests.locks import build_lock, read
from tests.privacy import Person, file_traces, store_text, traces
from tests.signpad_forms import signature
from tests.test_circ_cli import run
from tests.test_erasure import HORVAT
from tests.test_signpad_pad_e2e import PAD, config

P: Person = HORVAT


@pytest.fixture
def lib(net):
    """The devices' branch with copies, terms and a supervisor (central not started yet: the
    test enrols its devices first)."""
    s = site_library(net, ("B1", "Alamut"), ("H1", "Cankar"))
    terms.add(s, "2026-1", {"en": "You will return what you borrow."})
    branches.add_staff(s, "sup", "Sup", "supervisor", [net.site])
    return s


def desk(net, *args: str, staff: str = "desk") -> str:
    """A staff command at the devices' branch."""
    return run(net.store, *args, "--staff", staff)


def test_erasure_after_a_day_of_every_feature_leaves_no_value_anywhere(net, lib, tmp_path,
                                                                       caplog):
    caplog.set_level(logging.DEBUG)
    site = ("--branch", net.site)
    lock = build_lock(net, tmp_path)
    kiosk = net.device("kiosk-1", kind="kiosk", datasets=["allowlist"])
    box = boxes.build(net, tmp_path)
    pad = Signpad(config(net, tmp_path))
    net.start_central()
    desk(net, "patron", "add", P.surname, *site, "--first-name", P.first_name,
         "--birth-date", P.birth_date, "--email", P.email, "--phone", P.phone,
         "--library-card", P.library_card, "--city-card", P.city_card, "--language", "en")
    desk(net, "patron", "edit", "1", *site, "--address", P.address)
    desk(net, "patron", "add", "Kos", *site)
    desk(net, "checkout", "id:2", "H1", *site)                 # Kos has the copy ...
    desk(net, "hold", "place", "id:1", "H1", *site)             # ... Horvat waits for it
    key = bytes.fromhex(net.card_key)
    hashed = card_hash(key, P.city_card)

    for device in (lock, kiosk, box, pad):
        device.start()
    flow = pad.pad
    try:
        wait_for(lambda: lock.runtime.lookup(ALLOWLIST, hashed), what="card at the door")
        wait_for(lambda: lock.present("wc", read(P.city_card)) == "granted", what="door")
        wait_for(lambda: kiosk.central_up and kiosk.lookup(ALLOWLIST, hashed), what="kiosk")
        backend = CentralBackend(kiosk)
        horvat = backend.identify(P.city_card, "uid")
        backend.checkout(horvat, "B1")
        desk(net, "money", "charge", "id:1", "fine", "300", *site)
        backend.record_payment(horvat, [], 300, "TERM-1")
        backend.email_receipt(horvat, "en", "Receipt", [Line("text", "Alamut")])
        wait_for(lambda: kiosk.health().outbox_depth == 0, what="payment and receipt applied")

        boxes.insert(box, "H1")                                  # Kos returns: Horvat's hold
        wait_for(lambda: boxes.settled(box, 1), what="H1 through the box")
        assert lib.scalar("SELECT count(*) FROM processed WHERE instr(response, ?)",
                          [P.hold_name().encode()]) == 1

        wait_for(lambda: flow.backend.online and lib.scalar(
            "SELECT online FROM device_status WHERE dev = ?", [PAD]), what="pad online")
        for kind in ("change", "renewal"):
            desk(net, "form", "start", "--patron", "1", "--kind", kind, "--pad", PAD)
            wait_for(lambda kind=kind: flow.screen == Screen.FORM and flow.form.kind == kind,
                     what=f"the {kind} form on the pad")
            if kind == "change":
                for step in (flow.data_ok, flow.terms_read):
                    pad.worker.act(step)
                s = signature("patron")
                pad.worker.act(lambda s=s: flow.sign(s.strokes, s.width, s.height))
                wait_for(lambda: flow.screen == Screen.THANKS, what="signed")
                wait_for(lambda: pad.runtime.health().outbox_depth == 0, what="archived")
                pad.worker.act(flow.done)
        assert {f.value for f in flow.form.fields} >= {P.surname, P.address, P.birth_date}

        run(net.store, "card", "block", P.city_card, "--staff", "sup")
        run(net.store, "card", "unblock", P.city_card, "--staff", "sup")
        desk(net, "checkin", "B1", *site)
        assert traces(store_text(net.db_path), P)      # the search finds them before

        desk(net, "member", "erase", "1", *site, "--yes", staff="sup")
        wait_for(lambda: flow.screen == Screen.IDLE and flow.form is None,
                 what="the pad dropped the erased member's open form")
        for device in (lock.runtime, kiosk, box.runtime):
            wait_for(lambda d=device: d.lookup(ALLOWLIST, hashed) is None,
                     what="the card gone from each device's list")
        assert lock.present("wc", read(P.city_card)) == "card_unknown"
        moment = time.monotonic()
        wait_for(lambda: all(d.health().outbox_depth == 0 for d in
                             (lock.runtime, kiosk, box.runtime, pad.runtime)) and moment,
                 what="every device's outbox delivered")
    finally:
        pad.stop()
        box.stop()
        kiosk.stop()
        lock.stop()
    net.central.stop()
    net.central = None

    assert traces(store_text(net.db_path), P) == []
    central_files = [net.db_path, net.db_path.with_name(net.db_path.name + "-wal")]
    assert [f.name for f in central_files if f.exists() and any(
        v.lower().encode() in f.read_bytes().lower() for v in P.values())] == []
    assert file_traces(form_archive.root(Store(net.db)), P) == []
    for folder in ("lock-1", "kiosk-1", "box-1", PAD, "broker"):
        assert file_traces(tmp_path / folder, P) == [], folder
    assert traces(caplog.text.splitlines(), P) == []
