"""A door's Pi gets `libedge[lockd]` only: no Kivy, Starlette or pyHanko, and the lock daemon
and its core tests run there."""

import os
import shutil
import subprocess

import msgspec
import pytest
import tomli_w

from central import fleet
from edge_common.readers import send_sim_tap
from tests import lean_venv
from tests.boxes import _without_none
from tests.harness import device_parts, wait_for
from tests.lean_venv import ROOT
from tests.locks import add_card, decisions

CORE_TESTS = ("tests/test_doorstate.py", "tests/test_lockd_config.py")


@pytest.fixture(scope="module")
def lean(tmp_path_factory):
    """The python of a new venv with `libedge[lockd]`, pytest and hypothesis (for the core
    tests) installed from this checkout."""
    return lean_venv.build(tmp_path_factory.mktemp("lean"), "lockd",
                           also=("pytest>=8,<9.2", "hypothesis>=6.100"))


def test_a_lockd_venv_installs_no_kivy_starlette_or_pyhanko(lean):
    assert lean_venv.importable(lean, lean_venv.HEAVY) == []
    assert lean_venv.importable(lean, ("lockd", "edge_common", "paho", "gpiozero")) == [
        "lockd", "edge_common", "paho", "gpiozero"]


def test_the_lock_daemon_runs_a_door_from_the_lean_venv(lean, net, tmp_path):
    """`lockd --check-config` passes; started against a broker and central, the daemon syncs
    its list, grants a known card and central logs the decision."""
    net.start_central()
    add_card(net.db, "04A1B2C3")
    key = fleet.enrol(net.db, "lock-lean", net.site, "lockd")
    device, mqtt, _ = device_parts(net.broker, net.root, "lock-lean", net.site, "lockd",
                                   net.card_key, command_key=key)
    sock = str(tmp_path / "door.sock")
    config = tmp_path / "lockd.toml"
    config.write_text(tomli_w.dumps(_without_none({
        "device": msgspec.to_builtins(device), "mqtt": msgspec.to_builtins(mqtt),
        "gpio": {"pin_factory": "mock"},
        "doors": [{"id": "wc", "kind": "toilet", "relay_pin": 17, "unlock_seconds": 0.05,
                   "reader": {"kind": "sim", "socket": sock}}]})))
    daemon = [str(lean), "-m", "lockd.daemon", "--config", str(config)]
    checked = subprocess.run([*daemon, "--check-config"], capture_output=True, text=True,
                             timeout=120, env=lean_venv.env())
    assert checked.returncode == 0 and "ok (1 doors)" in checked.stdout, checked.stderr
    log = tmp_path / "lockd.log"
    with log.open("wb") as err:
        proc = subprocess.Popen(daemon, stderr=err, cwd=tmp_path, env=lean_venv.env())
    try:
        wait_for(lambda: proc.poll() is not None or os.path.exists(sock), what="reader up")
        wait_for(lambda: proc.poll() is not None
                 or send_sim_tap(sock, "04A1B2C3", answer_within=1.0) == "granted",
                 what="the card granted once the list is synced")
        assert proc.poll() is None, log.read_text()
        wait_for(lambda: "granted" in decisions(net), what="the decision at central")
    finally:
        proc.terminate()
        proc.wait(30)
    assert proc.returncode == 0, log.read_text()


def test_the_lock_daemons_core_tests_pass_in_the_lean_venv(lean, tmp_path):
    """The door-state and config tests, run by the lean venv's pytest against the installed
    package (not this checkout)."""
    (tmp_path / "tests").mkdir()
    (tmp_path / "deploy").mkdir()
    shutil.copy(ROOT / "deploy" / "lockd.example.toml", tmp_path / "deploy")
    for test in ("tests/__init__.py", *CORE_TESTS):
        shutil.copy(ROOT / test, tmp_path / test)
    run = subprocess.run([str(lean), "-m", "pytest", "-q", "--noconftest", "-p",
                          "no:cacheprovider", *CORE_TESTS], capture_output=True, text=True,
                         cwd=tmp_path, timeout=600, env=lean_venv.env(CI="true"))
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert " passed" in run.stdout and "failed" not in run.stdout
