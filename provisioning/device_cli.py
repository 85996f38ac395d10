"""`libedge-provision`: what runs on a device to join the fleet."""

import logging
from pathlib import Path

import click

from edge_common.config import load
from edge_common.daemon_cli import LOG_FORMAT
from edge_common.errors import EdgeError
from provisioning.enrol import enrol
from provisioning.grant import Ticket


@click.group()
def cli() -> None:
    """Join this device to a libedge central."""


@cli.command("enrol")
@click.option("--ticket", "ticket_path", type=click.Path(dir_okay=False),
              help="The invitation file (`libedge admin device invite --ticket`), instead of "
                   "--central, --token and --ca-sha256.")
@click.option("--central", help="Central's enrolment endpoint, https://host:port.")
@click.option("--token", help="The one-time token from the invitation.")
@click.option("--ca-sha256", help="SHA-256 of central's CA certificate, from the invitation.")
@click.option("--out", default="/etc/libedge", show_default=True, type=click.Path(file_okay=False),
              help="Where the config, the broker password and the CA go (mode 0600).")
@click.option("--data-dir", type=click.Path(file_okay=False),
              help="The device's state folder (default: OUT/data).")
def enrol_command(ticket_path: str | None, central: str | None, token: str | None,
                  ca_sha256: str | None, out: str, data_dir: str | None) -> None:
    """Redeem the invitation's token at central and write this device's config."""
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    try:
        if ticket_path:
            ticket = load(ticket_path, Ticket)
        elif central and token and ca_sha256:
            ticket = Ticket(central, token, ca_sha256.lower())
        else:
            raise click.UsageError("[missing_value] give --ticket, or --central, --token and "
                                   "--ca-sha256")
        done = enrol(ticket, Path(out), Path(data_dir) if data_dir else None)
    except EdgeError as exc:
        raise click.ClickException(f"[{exc.code}] {exc}") from None
    except OSError as exc:
        raise click.ClickException(f"[write_failed] {exc}") from None
    click.echo(f"enrolled {done.dev} ({done.kind}); config {done.config}")
