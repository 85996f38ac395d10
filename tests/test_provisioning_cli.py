"""Staff and device commands of provisioning, as a user types them: `libedge admin ca init`,
`device invite` (token, QR code, ticket file), `libedge-provision enrol` and `device revoke`."""

import os
import stat
import subprocess
import sys
from pathlib import Path

import msgspec
import tomli_w
from click.testing import CliRunner

from central import fleet as central_fleet
from libedge_cli.main import cli
from provisioning.device_cli import cli as provision_cli
from tests.fleet import TlsProbe
from tests.harness import wait_for


def test_ca_init_makes_private_keys_and_refuses_to_replace_a_ca(tmp_path):
    """A second `ca init` on the same folder would lock every device out: refused with a code;
    `ca show` gives the fingerprint and the expiry dates."""
    args = ["admin", "ca", "init", "--dir", str(tmp_path / "ca"), "--host", "central.example"]
    first = CliRunner().invoke(cli, args)
    assert first.exit_code == 0 and "sha256 " in first.output, first.output
    for key in ("ca.key", "server.key"):
        assert stat.S_IMODE(os.stat(tmp_path / "ca" / key).st_mode) == 0o600
    again = CliRunner().invoke(cli, args)
    assert again.exit_code == 1 and "[ca_exists]" in again.output
    shown = CliRunner().invoke(cli, ["admin", "ca", "show", "--dir", str(tmp_path / "ca")])
    assert shown.exit_code == 0 and first.output.split("sha256 ")[1].strip() in shown.output
    assert "server certificate expires 20" in shown.output
    missing = CliRunner().invoke(cli, ["admin", "ca", "show", "--dir", str(tmp_path)])
    assert missing.exit_code == 1 and "[ca_missing]" in missing.output


def test_invite_enrol_and_revoke_from_the_command_line(fleet, tmp_path):
    """Staff invite lock-7 (a QR code and a ticket file), the device enrols with the ticket,
    a second use is refused with `[token_used]` (no traceback), and `device revoke` shuts the
    connected device out at the broker and at central."""
    config = tmp_path / "lock-7.toml"
    config.write_text('[[doors]]\nid = "wc"\nkind = "toilet"\nrelay_pin = 17\n'
                      f'reader = {{ kind = "sim", socket = "{tmp_path / "wc.sock"}" }}\n')
    ticket = tmp_path / "boot" / "libedge-enrol.toml"
    out = fleet.admin("device", "invite", "lock-7", "--site", "main", "--kind", "lockd",
                      "--config", str(config), "--ticket", str(ticket),
                      "--provision", str(fleet.stack.settings))
    assert "libedge-provision enrol --central https://" in out and "█" in out
    assert stat.S_IMODE(os.stat(ticket).st_mode) == 0o600

    enrol = ["enrol", "--ticket", str(ticket), "--out", str(tmp_path / "etc")]
    done = CliRunner().invoke(provision_cli, enrol)
    assert done.exit_code == 0, done.output
    written = (tmp_path / "etc" / "lockd.toml").read_text()
    assert 'id = "wc"' in written and "tls = true" in written
    again = CliRunner().invoke(provision_cli, enrol)
    assert again.exit_code == 1 and "[token_used]" in again.output
    assert "Traceback" not in again.output

    secret = (tmp_path / "etc" / "mqtt-password").read_text().strip()
    probe = TlsProbe(fleet, "lock-7", secret)
    try:
        assert probe.connack == 0
        out = fleet.admin("device", "revoke", "lock-7", "--provision", str(fleet.stack.settings))
        assert "at the broker and at central" in out
        wait_for(probe.closed.is_set, what="lock-7 disconnected")
    finally:
        probe.close()
    assert central_fleet.command_key(fleet.db, "lock-7") is None


FIRSTBOOT = Path(__file__).parent.parent / "deploy" / "libedge-firstboot.sh"


def test_first_boot_enrols_with_the_ticket_removes_it_and_starts_the_daemon(fleet, tmp_path):
    """deploy/libedge-firstboot.sh as systemd runs it: the ticket enrols the device and is
    removed, the daemon is enabled; a refused ticket is removed too (exit 2, no retry)."""
    ticket = tmp_path / "boot" / "libedge-enrol.toml"
    ticket.parent.mkdir()
    ticket.write_text(tomli_w.dumps(msgspec.to_builtins(
        fleet.stack.invite(fleet.db, "lock-7", "main", "lockd"))))
    env = os.environ | {"LIBEDGE_ETC": str(tmp_path / "etc"),
                        "LIBEDGE_DATA": str(tmp_path / "data"),
                        "LIBEDGE_PROVISION_BIN": str(Path(sys.executable).parent
                                                     / "libedge-provision"),
                        "SYSTEMCTL": "echo systemctl"}
    used = ticket.read_text()
    done = subprocess.run([str(FIRSTBOOT), str(ticket)], env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "systemctl enable --now lockd.service" in done.stdout
    assert not ticket.exists() and (tmp_path / "etc" / "lockd.toml").exists()

    ticket.write_text(used)
    again = subprocess.run([str(FIRSTBOOT), str(ticket)], env=env, capture_output=True,
                           text=True, timeout=60)
    assert again.returncode == 2 and "[token_used]" in again.stdout
    assert not ticket.exists()
