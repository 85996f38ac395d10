"""A signing pad and central over a real mosquitto: the desk starts a form, the pad is told by a
signed command and fetches it, a correction goes round, the signed form is archived once
however often it is sent (central restarted between), and the events reach the pad."""

import queue
import random
import re
import signal
import subprocess
import sys
import time

import msgspec
import pytest

from central import fleet
from central.circulation import branches, form_archive, forms, patrons, terms
from edge_common.protocol import forms as wire
from edge_common.runtime import DeviceRuntime
from tests.circ import site_library
from tests.harness import device_parts, wait_for, write_central_toml
from tests.signed_forms import signed
from tests.test_circ_cli import run

PAD = "pad-1"


@pytest.fixture
def library(net):
    """The devices' branch with terms and a patron."""
    s = site_library(net)
    terms.add(s, "2026-1", {"en": "You will return what you borrow."})
    branches.add_staff(s, "boss", "Boss", "admin", [net.site])
    s.pid = patrons.add_patron(s, "Novak", "adult", branch=net.site, first_name="Ana",
                               address="Slovenska 1, Ljubljana")
    return s


@pytest.fixture
def lib(net, library):
    """The library with central started in this process."""
    net.start_central()
    return library


def signpad(net, s, dev: str = PAD) -> DeviceRuntime:
    """A started signing pad runtime, seen online by central, whose `form_show` commands
    land in `.shown`."""
    shown: queue.Queue = queue.Queue()

    key = fleet.enrol(net.db, dev, net.site, "signpad")
    pad = DeviceRuntime(*device_parts(net.broker, net.root, dev, net.site, "signpad",
                                      net.card_key, command_key=key, ack_timeout=1.0),
                        version="test", datasets=["events"])
    pad.commands.route("form_show", lambda args: shown.put(msgspec.to_builtins(args)) or {})
    pad.shown = shown
    pad.start()
    try:
        wait_for(lambda: pad.central_up, what=f"{dev} sees central")
        wait_for(lambda: s.scalar("SELECT online FROM device_status WHERE dev = ?", [dev]),
                 what=f"central knows {dev} is online")
    except BaseException:
        pad.stop()
        raise
    return pad


@pytest.fixture
def pad(net, lib):
    """A started signing pad (stopped at the end unless the test stopped it)."""
    dev = signpad(net, lib)
    try:
        yield dev
    finally:
        if not getattr(dev, "stopped", False):
            dev.stop()


def start(net, patron_id: int, ok: bool = True) -> str:
    """`libedge admin form start` at the desk."""
    return run(net.store, "form", "start", "--patron", str(patron_id), "--kind", "change",
               "--pad", PAD, "--staff", "desk", ok=ok)


def delivered(pad) -> None:
    """Wait until central acked everything the pad sent."""
    wait_for(lambda: pad.health().outbox_depth == 0, what="outbox drained")


@pytest.mark.parametrize("net", ["sqlite", "postgresql"], indirect=True)
def test_a_form_goes_round_from_the_desk_to_the_pad_and_into_the_archive_once(net, lib, pad):
    start(net, lib.pid)
    told = pad.shown.get(timeout=30)
    assert told["revision"] == 1
    waiting = pad.request(wire.FORM_PENDING, wire.FormRef()).form
    form = pad.request(wire.FORM_GET, wire.FormRef(form=told["form"]))
    assert waiting == form and form.signers == ["patron"] and form.staff == "desk"
    assert {f.key: f.value for f in form.fields}["address"] == "Slovenska 1, Ljubljana"
    pad.emit(wire.FORM_CORRECTION, wire.Correction(form=form.form, revision=1, field="address"))
    delivered(pad)
    assert '"field": "address"' in run(net.store, "form", "show", "--form", str(form.form))
    run(net.store, "form", "fix", "--form", str(form.form), "--field", "address",
        "--value", "Slovenska 2, Ljubljana", "--staff", "desk")
    assert pad.shown.get(timeout=30) == {"form": form.form, "revision": 2}
    form = pad.request(wire.FORM_GET, wire.FormRef())
    assert {f.key: f.value for f in form.fields}["address"] == "Slovenska 2, Ljubljana"

    body = signed(form)
    first = pad.emit(wire.FORM_SIGNED, body)
    delivered(pad)
    answer = lib.scalar("SELECT response FROM processed WHERE id = ?", [first])
    assert b'"archive":%d' % form.form in answer and b'"sealed":true' in answer
    net.central.stop()                                   # the ack was lost: the pad sends again
    net.central = None
    pad.emit(wire.FORM_SIGNED, body, id=first)
    net.start_central()
    delivered(pad)
    assert net.central.stats["duplicates"] >= 1               # answered again, not applied
    pad.emit(wire.FORM_SIGNED, signed(form))              # signed again, a new message
    delivered(pad)
    assert lib.scalar("SELECT code FROM rejected WHERE type = 'form.signed'") == "form_archived"
    assert lib.scalar("SELECT count(*) FROM form_archive") == 1
    assert len(list((form_archive.root(lib) / "active").iterdir())) == 1
    assert "hash and seal verified" in run(net.store, "form", "verify", "--form",
                                           str(form.form))
    listed = run(net.store, "form", "list", "--state", "signed")
    assert f'"id": {form.form}' in listed and '"area": "active"' in listed


@pytest.mark.parametrize("net", ["sqlite", "postgresql"], indirect=True)
def test_no_new_form_on_an_offline_pad_and_the_desk_is_told_why(net, lib, pad):
    pad.stop()
    pad.stopped = True
    wait_for(lambda: lib.scalar("SELECT online FROM device_status WHERE dev = ?", [PAD]) == 0,
             what="central knows the pad went offline")
    assert "[pad_offline]" in start(net, lib.pid, ok=False)
    assert lib.scalar("SELECT count(*) FROM forms") == 0


@pytest.mark.parametrize("net", ["sqlite", "postgresql"], indirect=True)
def test_a_bad_hash_or_an_unknown_form_is_refused_acked_and_nothing_is_kept(net, lib, pad):
    start(net, lib.pid)
    form = pad.request(wire.FORM_GET, wire.FormRef(form=pad.shown.get(timeout=30)["form"]))
    pad.emit(wire.FORM_SIGNED, signed(form, sha256="0" * 64))
    unknown = signed(form)
    pad.emit(wire.FORM_SIGNED, wire.Signed(**{**{f: getattr(unknown, f) for f in
                                                 unknown.__struct_fields__}, "form": 999}))
    delivered(pad)
    codes = [c for (c,) in lib.db.execute("SELECT code FROM rejected ORDER BY n")]
    assert codes == ["hash_mismatch", "form_unknown"]
    assert lib.scalar("SELECT count(*) FROM form_archive") == 0
    assert not (form_archive.root(lib) / "active").exists()
    assert lib.scalar("SELECT state FROM forms WHERE id = ?", [form.form]) == "open"


@pytest.mark.parametrize("net", ["sqlite", "postgresql"], indirect=True)
def test_the_events_a_branch_adds_reach_its_pads(net, lib, pad):
    out = run(net.store, "events", "add", "Story time", "--starts", "2026-12-03T17:00+0100",
              "--place", "Children's corner", "--branch", net.site, "--staff", "desk", ok=False)
    assert "[role_required]" in out or "[forbidden]" in out     # a clerk may not
    out = run(net.store, "events", "add", "Story time", "--starts", "2026-12-03T17:00+0100",
              "--place", "Children's corner", "--branch", net.site, "--staff", "boss")
    key = re.search(r"event (\S+) added", out).group(1)
    row = wait_for(lambda: pad.row("events", key), what="the event on the pad")
    assert (row.title, row.place) == ("Story time", "Children's corner")
    assert key in run(net.store, "events", "list", "--branch", net.site)
    run(net.store, "events", "remove", key, "--branch", net.site, "--staff", "boss")
    wait_for(lambda: pad.row("events", key) is None, what="the event gone from the pad")


@pytest.mark.parametrize("net", ["sqlite", "postgresql"], indirect=True)
def test_central_killed_while_archiving_keeps_each_form_once_and_sealed(net, library, tmp_path):
    """kill -9 of central's process just after a pad sent a signed form, three times: after
    each restart the form is archived exactly once, its files whole and its seal valid."""
    conf = write_central_toml(net.broker, net.store, tmp_path / "central.toml")
    log = open(tmp_path / "central.log", "ab")

    def start_central():
        return subprocess.Popen([sys.executable, "-m", "central.service", "--config", str(conf)],
                                stdout=log, stderr=subprocess.STDOUT)

    rng = random.Random(15)
    central = start_central()
    pad = None
    try:
        pad = signpad(net, library)
        for _ in range(3):
            form_id = forms.start(library, library.pid, "change", PAD, "desk")["id"]
            form = pad.request(wire.FORM_GET, wire.FormRef(form=form_id), timeout=30)
            pad.emit(wire.FORM_SIGNED, signed(form))
            time.sleep(rng.uniform(0, 0.08))          # kill at a different point each time
            central.send_signal(signal.SIGKILL)
            central.wait()
            central = start_central()
            wait_for(lambda: pad.health().outbox_depth == 0,
                     what="outbox drained; see central.log")
            assert library.scalar("SELECT count(*) FROM form_archive WHERE form_id = ?",
                                  [form_id]) == 1
            assert form_archive.verify(library, form_id) == []
        assert library.scalar("SELECT count(*) FROM form_archive") == 3
    finally:
        if pad is not None:
            pad.stop()
        central.send_signal(signal.SIGTERM)
        central.wait(10)
        log.close()
