"""`libedge`: one command for staff and engineers, thin over the Python API."""

from pathlib import Path

import click

from central.admin_cli import admin, device_list
from edge_common.errors import EdgeError
from edge_common.readers import send_sim_tap


@click.group()
@click.version_option(package_name="libedge")
def cli() -> None:
    """libedge: self-service and edge devices for public libraries."""


cli.add_command(admin)


@cli.command()
@click.argument("door")
@click.argument("card")
@click.option("--run-dir", default="demo-run", show_default=True, type=click.Path(),
              help="The demo's run directory, where simulated readers listen.")
@click.option("--socket", "socket_path", type=click.Path(),
              help="A simulated reader's socket (instead of DOOR in the run directory).")
def tap(door: str, card: str, run_dir: str, socket_path: str | None) -> None:
    """Present CARD (a UID like 04A1B2C3 or a barcode) at DOOR's simulated reader."""
    path = socket_path or str(Path(run_dir) / "doors" / f"{door}.sock")
    try:
        send_sim_tap(path, card)
    except (OSError, EdgeError) as exc:
        raise click.ClickException(f"cannot reach the reader of {door} at {path}: {exc}") from exc
    click.echo(f"tapped {card} at {door}")


@cli.command()
@click.option("--db", "db_path", envvar="LIBEDGE_DB", default="demo-run/central.db",
              show_default=True, type=click.Path(dir_okay=False), help="Central's database.")
@click.pass_context
def status(ctx: click.Context, db_path: str) -> None:
    """Show every device's last reported state (online, outbox, alarms, doors)."""
    ctx.invoke(device_list, db_path=db_path)


@cli.command()
@click.option("--run-dir", default="demo-run", show_default=True, type=click.Path(),
              help="Where the demo keeps its broker, database and device state.")
@click.option("--duration", type=float, help="Stop after this many seconds (default: Ctrl-C).")
@click.option("--kiosk/--no-kiosk", default=None,
              help="Show a kiosk window too (default: when there is a screen).")
def demo(run_dir: str, duration: float | None, kiosk: bool | None) -> None:
    """Run a broker, central, two simulated locks and a kiosk on this machine."""
    from libedge_cli.demo import run

    run(Path(run_dir), duration, kiosk)
