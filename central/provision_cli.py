"""Staff commands for provisioning: central's CA, device invitations, the enrolment endpoint."""

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import click
import msgspec
import segno
import tomli_w

from central import commands, device_config, enrolment, site_keys
from central.circulation.store import Store
from central.staff_cli.common import DB_OPTION, DEVICE_ID, SITE_ID, staff_action, with_store
from edge_common.config import load
from edge_common.daemon_cli import LOG_FORMAT, run_until_stopped
from edge_common.errors import EdgeError
from edge_common.files import write_private
from edge_common.protocol import DEVICE_KINDS
from provisioning import ca as central_ca
from provisioning import settings

F = TypeVar("F", bound=Callable[..., Any])



def provision_option(required: bool = True) -> Callable[[F], F]:
    """--provision FILE: central's provisioning settings (CA, broker admin, endpoint)."""
    return click.option(
        "--provision", "provision_path", envvar="LIBEDGE_PROVISION", required=required,
        type=click.Path(exists=True, dir_okay=False),
        help="Central's provisioning settings (CA folder, broker admin, enrolment endpoint).")


PROVISION = provision_option()


def provision_config(path: str) -> settings.ProvisionConfig:
    """provision.toml, or a usage error with its code."""
    try:
        return settings.read(path)
    except EdgeError as exc:
        raise click.ClickException(f"[{exc.code}] {exc}") from None


@click.group("ca")
def ca() -> None:
    """Central's own certificate authority (devices trust it alone)."""


@ca.command("init")
@click.option("--dir", "ca_dir", required=True, type=click.Path(file_okay=False),
              help="Where the CA and the server certificate go (keys 0600).")
@click.option("--host", "hosts", multiple=True, required=True,
              help="A name or address devices reach the broker and central by (repeatable).")
def ca_init(ca_dir: str, hosts: tuple[str, ...]) -> None:
    """Create the CA and the server certificate of the broker and the enrolment endpoint."""
    try:
        files = central_ca.init(Path(ca_dir), list(hosts))
    except EdgeError as exc:
        raise click.ClickException(f"[{exc.code}] {exc}") from None
    click.echo(f"CA {files.ca_cert}; sha256 {central_ca.fingerprint(files.ca_cert.read_bytes())}")


@ca.command("show")
@click.option("--dir", "ca_dir", required=True, type=click.Path(file_okay=False),
              help="The CA folder.")
def ca_show(ca_dir: str) -> None:
    """The CA's fingerprint (what tickets pin) and when it and the server certificate expire."""
    try:
        files = central_ca.CaFiles(Path(ca_dir)).check()
    except EdgeError as exc:
        raise click.ClickException(f"[{exc.code}] {exc}") from None
    ca_pem, server_pem = files.ca_cert.read_bytes(), files.server_cert.read_bytes()
    click.echo(f"CA sha256 {central_ca.fingerprint(ca_pem)}, expires "
               f"{central_ca.expires(ca_pem):%Y-%m-%d}; server certificate expires "
               f"{central_ca.expires(server_pem):%Y-%m-%d} (renew before: devices refuse it)")


@click.command("invite")
@with_store
@staff_action("device.invite", "admin")
@click.argument("dev", type=DEVICE_ID)
@click.option("--site", required=True, type=SITE_ID, help="Branch id the device will belong to.")
@click.option("--kind", required=True, type=click.Choice(DEVICE_KINDS), help="What it is.")
@click.option("--hours", default=24.0, show_default=True, type=click.FloatRange(0.1, 24 * 30),
              help="How long the token is valid.")
@click.option("--config", "config_path", type=click.Path(exists=True, dir_okay=False),
              help="The device's config (TOML: its doors, readers, …), kept at central.")
@click.option("--ticket", "ticket_path", type=click.Path(dir_okay=False),
              help="Also write the invitation as a file for the device's boot partition.")
@PROVISION
def device_invite(s: Store, dev: str, site: str, kind: str, hours: float,
                  config_path: str | None, ticket_path: str | None, provision_path: str) -> None:
    """Invite DEV: a one-time token (shown once, also as a QR code) that enrols it."""
    body = load(config_path, dict) if config_path else None
    ticket, inv = enrolment.invite(s.db, provision_config(provision_path), dev, site, kind,
                                    body, timedelta(hours=hours))
    text = tomli_w.dumps(msgspec.to_builtins(ticket))
    if ticket_path:
        write_private(Path(ticket_path), text)
    click.echo(f"invited {dev} ({kind}) at {site}; the token works once, until "
               f"{inv.expires:%Y-%m-%d %H:%M} UTC. On the device:\n"
               f"  libedge-provision enrol --central {ticket.central} --token {ticket.token}"
               f" --ca-sha256 {ticket.ca_sha256}")
    segno.make(text, error="m").terminal(compact=True)


@click.command("config")
@with_store
@staff_action("device.config", "admin")
@click.argument("dev")
@click.argument("action", type=click.Choice(["show", "set"]))
@click.argument("assignments", nargs=-1, metavar="[KEY=VALUE]...")
@click.option("--ttl", default=900.0, show_default=True, type=click.FloatRange(1, 900),
              help="Seconds the pushed config stays valid for a device that is offline.")
def device_config_command(s: Store, dev: str, action: str, assignments: tuple[str, ...],
                          ttl: float) -> None:
    """Show DEV's config as central keeps it, or set keys (door.ID.… names a door, e.g.
    `door.wc.policy.rate_limit_seconds=30`) as a new version pushed to DEV, signed; the
    device checks it with its schema and refuses it, keeping its config, when it is invalid."""
    version, body = device_config.latest(s.db, dev)
    if not version and not s.scalar("SELECT 1 FROM devices WHERE id = ?", [dev]):
        raise click.ClickException(f"[device_unknown] no device {dev!r}")
    if action == "show":
        click.echo(f"# {dev} config v{version} at central\n{tomli_w.dumps(body)}")
        return
    if not assignments:
        raise click.UsageError("[missing_value] set needs KEY=VALUE")
    for assignment in assignments:
        body = device_config.assign(body, assignment)
    with s.atomic():
        version = device_config.store(s.db, dev, body)
        nonce = commands.issue(s.db, dev, "config", {"version": version, "config": body}, ttl)
    click.echo(f"config v{version} for {dev} queued (nonce {nonce})")


@click.group("site")
def site_group() -> None:
    """A branch's card key (devices hash card UIDs with it)."""


@site_group.command("rotate-key")
@with_store
@staff_action("site.rotate_key", "admin")
@click.argument("site", type=SITE_ID)
@click.option("--overlap-hours", default=24.0, show_default=True,
              type=click.FloatRange(0.01, 24 * 30),
              help="How long cards stay listed under the old key too (devices offline that long "
                   "get the new key when they are back within the overlap).")
def site_rotate_key(s: Store, site: str, overlap_hours: float) -> None:
    """Give SITE a new card key: every card is re-hashed into its lists beside the old hash,
    its devices get the new key (signed), and the old hashes go when the overlap ends, so a
    copy of the old key opens nothing; no card stops working."""
    _, devices = site_keys.rotate(s.db, site, timedelta(hours=overlap_hours))
    click.echo(f"new card key for {site}; sent to {len(devices)} devices"
               f" ({', '.join(devices) or 'none'}); the old key works for {overlap_hours:g} h")


@click.group("enrolment")
def endpoint() -> None:
    """Central's HTTPS enrolment endpoint."""


@endpoint.command("serve")
@DB_OPTION
@PROVISION
def enrolment_serve(db_path: str, provision_path: str) -> None:
    """Serve enrolments until SIGTERM or Ctrl-C."""
    import logging

    from central.enrolment_server import EnrolmentServer

    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    try:
        server = EnrolmentServer(db_path, provision_config(provision_path))
    except (EdgeError, OSError) as exc:
        raise click.ClickException(f"[enrolment_unavailable] {exc}") from None
    click.echo(f"enrolment endpoint on port {server.port}")
    run_until_stopped(server.start, server.stop)


DEVICE_COMMANDS = [device_invite, device_config_command]
COMMANDS = [ca, endpoint, site_group]
