"""lockd's config file: the shipped example is valid, a bad key is named by --check-config."""

import subprocess
import sys

from edge_common.config import load
from lockd.config import LockdConfig


def test_example_pi_config_is_valid():
    """The example Raspberry Pi config loads: a PC/SC and an NFC door, the second fail-safe."""
    cfg = load("deploy/lockd.example.toml", LockdConfig)
    assert [type(d.reader).__name__ for d in cfg.doors] == ["PcscReaderConfig",
                                                             "NfcReaderConfig"]
    assert cfg.doors[1].exit_reader is not None and cfg.doors[1].fail_mode == "safe"


def test_check_config_names_the_bad_key(tmp_path):
    """`lockd --check-config` names a misspelt key and fails; the example passes."""
    bad = tmp_path / "lockd.toml"
    bad.write_text(open("deploy/lockd.example.toml").read().replace("unlock_seconds",
                                                                   "unlock_secs", 1))
    run = subprocess.run([sys.executable, "-m", "lockd.daemon", "--config", str(bad),
                          "--check-config"], capture_output=True, text=True)
    assert run.returncode != 0, run.stderr
    assert "lockd.toml" in run.stderr and "unknown key 'doors[0].unlock_secs'" in run.stderr
    good = subprocess.run([sys.executable, "-m", "lockd.daemon", "--config",
                           "deploy/lockd.example.toml", "--check-config"],
                          capture_output=True, text=True)
    assert good.returncode == 0 and "ok (2 doors)" in good.stdout
