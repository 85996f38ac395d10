"""The signing-pad daemon without its screen: config, a card reader socket, the sample backend,
and central over a real broker."""

import subprocess
import sys

import msgspec
import pytest

from central import fleet
from central.circulation import patrons
from central.circulation.store import Store
from edge_common.config import load
from edge_common.errors import ConfigError
from edge_common.readers import send_sim_tap
from edge_common.readers.config import PcscReaderConfig, SimReaderConfig
from signpad.config import PadSection, SignpadConfig
from signpad.daemon import Signpad
from signpad.flow import Screen
from tests.circ import copy, install
from tests.harness import device_parts, wait_for

EXAMPLE = "deploy/signpad.example.toml"
KEY = "ab" * 32


def test_example_config_is_valid_and_checked_from_the_command_line():
    cfg = load(EXAMPLE, SignpadConfig)
    assert isinstance(cfg.card_reader, PcscReaderConfig)
    run = subprocess.run([sys.executable, "-m", "signpad.daemon", "--config", EXAMPLE,
                          "--check-config"], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert "ok (central backend, card reader pcsc)" in run.stdout


@pytest.mark.parametrize("change, message", [
    (("thanks_for = 10.0", "thanks_for = 10.0\nkeep_forms = true"),
     "unknown key 'pad.keep_forms'"),
    (('language = "sl"', 'language = "xx"'), "unknown language 'xx'"),
    (("warning_after = 20.0", "warning_after = 90.0"), "warning_after must be shorter"),
    (('kind = "pcsc"', 'kind = "laser"'), "card_reader"),
])
def test_bad_config_is_refused_naming_the_problem(tmp_path, change, message):
    bad = tmp_path / "signpad.toml"
    bad.write_text(open(EXAMPLE).read().replace(*change))
    with pytest.raises(ConfigError) as err:
        load(bad, SignpadConfig)
    assert message in str(err.value) and str(bad) in str(err.value)
    run = subprocess.run([sys.executable, "-m", "signpad.daemon", "--config", str(bad),
                          "--check-config"], capture_output=True, text=True, timeout=60)
    assert run.returncode == 1 and "config_invalid" in run.stderr and "Traceback" not in run.stderr


def pad_config(tmp_path, backend="simulated", device=None, mqtt=None) -> SignpadConfig:
    """A pad with a simulated card reader."""
    raw = {
        "device": device or {"id": "pad-1", "site": "main", "kind": "signpad",
                             "data_dir": str(tmp_path / "pad-1"), "card_key": KEY},
        "pad": PadSection(backend=backend, library="City Library", language="en"),
        "card_reader": SimReaderConfig(socket=str(tmp_path / "card.sock"), name="card"),
    } | ({"mqtt": mqtt} if mqtt else {})
    return msgspec.convert(raw, SignpadConfig, from_attributes=True)


def test_a_card_tap_shows_the_sample_account_and_a_waiting_form_takes_over(tmp_path):
    pad = Signpad(pad_config(tmp_path))
    pad.pad.backend.form = None  # type: ignore[attr-defined]
    pad.start()
    try:
        wait_for(lambda: pad.reader_state == "ok", what="reader open")
        send_sim_tap(str(tmp_path / "card.sock"), "04:a1:b2:c3")
        wait_for(lambda: pad.pad.screen == Screen.ACCOUNT, what="account after the tap")
        assert pad.pad.patron.display_name == "Ana"
        from signpad.simulator import sample_form

        pad.pad.backend.form = sample_form()  # type: ignore[attr-defined]
        pad.worker.act(lambda: pad.pad.fetch())
        wait_for(lambda: pad.pad.screen == Screen.FORM, what="the form shown")
        assert pad.pad.account is None
    finally:
        pad.stop()


def test_the_account_comes_from_central_over_the_broker(net, tmp_path):
    s = install(Store(net.db), branches=[(net.site, "Main Library")])
    copy(s, "B1", "Alamut", net.site)
    pid = patrons.add_patron(s, "Novak", "adult", branch=net.site, first_name="Ana")
    patrons.add_card(s, pid, "04A1B2C3D4")
    net.start_central()
    fleet.enrol(net.db, "pad-1", net.site, "signpad")
    dev, mqtt, _ = device_parts(net.broker, tmp_path, "pad-1", net.site, "signpad", net.card_key)
    pad = Signpad(pad_config(tmp_path, "central", device=dev, mqtt=mqtt))
    pad.start()
    try:
        wait_for(lambda: pad.pad.backend.online, what="central reachable")
        send_sim_tap(str(tmp_path / "card.sock"), "04A1B2C3D4")
        wait_for(lambda: pad.pad.account is not None, what="account from central")
        assert pad.pad.patron.display_name == "Ana N." and pad.pad.screen == Screen.ACCOUNT
        assert pad.runtime.health().outbox_depth == 0
    finally:
        pad.stop()
