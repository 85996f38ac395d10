"""The signing-pad daemon against central over a real mosquitto: the desk starts a form, the pad
shows it, a correction goes round, the patron signs, central archives it once; then nothing of
the form is left in the pad's files. A pad killed between signing and the archive's ack
delivers its form once after a restart."""

import base64
import signal
import subprocess
import sys

import msgspec
import pytest

from central import fleet
from central.circulation import events, patrons, terms
from edge_common.protocol.forms import Signed
from signpad.config import PadSection, SignpadConfig
from signpad.daemon import Signpad
from signpad.flow import Screen
from tests.circ import site_library
from tests.harness import device_parts, wait_for
from tests.signpad_forms import signature
from tests.test_circ_cli import run

PAD = "pad-1"
NAME, BORN, ADDRESS = "Kővári-Čečović", "2013-05-17", "Trubarjeva 12, Ljubljana"


@pytest.fixture
def lib(net):
    """The devices' branch with terms, an event and a minor who signs with a guardian."""
    from datetime import UTC, datetime, timedelta

    s = site_library(net)
    terms.add(s, "2026-1", {"en": "You will return what you borrow.",
                            "sl": "Vrnili boste, kar si izposodite."})
    s.pid = patrons.add_patron(s, NAME, "adult", branch=net.site, first_name="Žiga",
                               birth_date=BORN, address=ADDRESS, language="sl")
    events.add(s, net.site, "Pravljična ura", datetime.now(UTC) + timedelta(days=2),
               place="Otroški kotiček")
    net.start_central()
    return s


def config(net, tmp_path) -> SignpadConfig:
    """The pad's config: central backend, a simulated card reader, enrolled with its keys."""
    key = fleet.enrol(net.db, PAD, net.site, "signpad")
    dev, mqtt, box = device_parts(net.broker, tmp_path, PAD, net.site, "signpad", net.card_key,
                                  command_key=key, ack_timeout=1.0)
    return msgspec.convert({
        "device": dev, "mqtt": mqtt, "outbox": box,
        "pad": PadSection(backend="central", language="en"),
        "card_reader": {"kind": "sim", "socket": str(tmp_path / "card.sock")},
    }, SignpadConfig, from_attributes=True)


def start_form(net, lib) -> int:
    """`libedge admin form start` at the desk; the form's id."""
    run(net.store, "form", "start", "--patron", str(lib.pid), "--kind", "change",
        "--pad", PAD, "--staff", "desk")
    return lib.scalar("SELECT max(id) FROM forms")


def files_holding(folder, needles: list[bytes]) -> list[str]:
    """Every file under `folder` holding any of `needles`."""
    return [f"{p}: {n[:30]!r}" for p in sorted(folder.rglob("*")) if p.is_file()
            for n in needles if n in p.read_bytes()]


def test_a_form_is_checked_corrected_signed_and_archived_and_leaves_nothing_on_the_pad(
        net, lib, tmp_path):
    pad = Signpad(config(net, tmp_path))
    submitted: list[Signed] = []
    submit = pad.pad.backend.submit
    pad.pad.backend.submit = lambda body: (submitted.append(body), submit(body))  # type: ignore
    pad.start()
    flow = pad.pad
    try:
        wait_for(lambda: flow.backend.online, what="central reachable")
        wait_for(lambda: lib.scalar("SELECT online FROM device_status WHERE dev = ?", [PAD]),
                 what="central knows the pad is online")
        wait_for(lambda: [e.title for e in flow.events()] == ["Pravljična ura"],
                 what="the branch's event on the pad")
        form_id = start_form(net, lib)
        wait_for(lambda: flow.screen == Screen.FORM, what="the form shown after form_show")
        assert flow.lang == "sl" and flow.form.signers == ["patron", "guardian"]
        shown = {f.key: f.value for f in flow.form.fields}
        assert shown["surname"] == NAME and shown["birth_date"] == BORN
        pad.worker.act(lambda: flow.wrong("address"))
        wait_for(lambda: lib.scalar("SELECT count(*) FROM form_corrections WHERE form_id = ?",
                                    [form_id]), what="the correction at the desk")
        assert flow.screen == Screen.CORRECTING
        run(net.store, "form", "fix", "--form", str(form_id), "--field", "address",
            "--value", "Slovenska 2, Ljubljana", "--staff", "desk")
        wait_for(lambda: flow.screen == Screen.FORM and flow.form.revision == 2,
                 what="the fixed revision on the pad")
        for step in (flow.data_ok, flow.terms_read):
            pad.worker.act(step)
        for signer in ("patron", "guardian"):
            s = signature(signer)
            pad.worker.act(lambda s=s: flow.sign(s.strokes, s.width, s.height))
        wait_for(lambda: flow.screen == Screen.THANKS, what="thank you")
        wait_for(lambda: pad.runtime.health().outbox_depth == 0, what="central acked the form")
        assert lib.scalar("SELECT count(*) FROM form_archive WHERE form_id = ?", [form_id]) == 1
        [body] = submitted
        assert lib.scalar("SELECT sha256 FROM form_archive WHERE form_id = ?",
                          [form_id]) == body.sha256
        assert "hash and seal verified" in run(net.store, "form", "verify", "--form",
                                               str(form_id))
    finally:
        pad.stop()
    middle = len(body.pdf) // 2
    needles = [NAME.encode(), BORN.encode(), ADDRESS.encode(), b"Slovenska 2",
               body.sha256.encode(), body.pdf[middle:middle + 60].encode(),
               base64.b64decode(body.pdf)[:200]]
    assert files_holding(tmp_path / PAD, needles) == []


def pad_process(cfg, mode: str) -> subprocess.Popen:
    """The pad daemon (no screen) as its own process; waits for its READY."""
    child = subprocess.Popen([sys.executable, "-m", "tests.signpad_proc", str(cfg), mode],
                             stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "READY"
    return child


def killed(child: subprocess.Popen) -> None:
    """kill -9, and reaped."""
    child.send_signal(signal.SIGKILL)
    child.wait(10)


def test_a_pad_killed_between_signing_and_the_ack_delivers_its_form_once(net, lib, tmp_path):
    import tomli_w

    cfg = tmp_path / "signpad.toml"
    cfg.write_text(tomli_w.dumps(msgspec.to_builtins(config(net, tmp_path))))
    child = pad_process(cfg, "sign")
    try:
        wait_for(lambda: lib.scalar("SELECT online FROM device_status WHERE dev = ?", [PAD]),
                 what="central knows the pad is online")
        form_id = start_form(net, lib)
        assert child.stdout.readline().strip() == "SHOWN"
        net.central.stop()  # no ack can come now: the signed form waits in the pad's outbox
        net.central = None
        (tmp_path / "signpad.toml.go").touch()
        assert child.stdout.readline().strip() == "SIGNED"
    finally:
        killed(child)
    net.start_central()
    child = pad_process(cfg, "wait")
    try:
        wait_for(lambda: lib.scalar("SELECT count(*) FROM form_archive WHERE form_id = ?",
                                    [form_id]), what="the form archived after the restart")
        wait_for(lambda: files_holding(tmp_path / PAD, [b'"form.signed"']) == [],
                 what="the pad's outbox emptied by central's ack")
        assert lib.scalar("SELECT count(*) FROM form_archive WHERE form_id = ?", [form_id]) == 1
        assert lib.scalar("SELECT state FROM forms WHERE id = ?", [form_id]) == "signed"
        assert "hash and seal verified" in run(net.store, "form", "verify", "--form",
                                               str(form_id))
    finally:
        killed(child)
    assert "SHOWN" not in child.stdout.read()  # the restarted pad did not offer it again
