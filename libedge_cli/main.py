"""`libedge`: one command for staff and engineers, thin over the Python API.

It starts light: central (`libedge admin`, `status`) is imported by the commands that use it,
so `libedge tap` on a device loads only the reader's client."""

import importlib
from pathlib import Path
from typing import Any

import click

from edge_common.access import GRANTED
from edge_common.errors import EdgeError
from edge_common.readers import send_sim_tap
from returnbox import RETURNED

USAGE_CODES: list[tuple[type[click.UsageError], str]] = [
    (click.MissingParameter, "missing_value"), (click.BadParameter, "bad_value"),
    (click.NoSuchOption, "unknown_option"), (click.UsageError, "bad_usage")]


class CodedGroup(click.Group):
    """A command group whose usage errors carry a stable code, like every refusal does, and
    whose `admin` group (all of central) is imported only when asked for."""

    LAZY = {"admin": ("central.admin_cli", "admin")}

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Every command's name, the lazy ones too."""
        return sorted([*super().list_commands(ctx), *self.LAZY])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """The command by name, importing a lazy one now."""
        if cmd_name in self.LAZY:
            module, name = self.LAZY[cmd_name]
            command: click.Command = getattr(importlib.import_module(module), name)
            return command
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        """Run the chosen command; a usage error gets its code in front of its message."""
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            if exc.message.startswith("["):
                raise
            code = next(c for kind, c in USAGE_CODES if isinstance(exc, kind))
            raise click.UsageError(f"[{code}] {exc.format_message()}", exc.ctx) from None


@click.group(cls=CodedGroup)
@click.version_option(package_name="libedge")
def cli() -> None:
    """libedge: self-service and edge devices for public libraries."""




class Store(click.ParamType):
    """Central's store as `--db` takes it (central.store_option), imported only when a
    command that takes one runs: `libedge tap` on a device loads nothing of central."""

    name = "store"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> str:
        """The URL, or the checked path."""
        from central.store_option import StoreTarget

        return StoreTarget().convert(value, param, ctx)

@cli.command()
@click.argument("door")
@click.argument("card")
@click.option("--run-dir", default="demo-run", show_default=True, type=click.Path(),
              help="The demo's run directory, where simulated readers listen.")
@click.option("--socket", "socket_path", type=click.Path(),
              help="A simulated reader's socket (instead of DOOR in the run directory).")
@click.option("--wait", type=click.FloatRange(min=0), default=3.0, show_default=True,
              help="Seconds to wait for the device's answer; 0 sends the card and does not ask.")
def tap(door: str, card: str, run_dir: str, socket_path: str | None, wait: float) -> None:
    """Present CARD (a UID like 04A1B2C3 or a barcode) at DOOR's simulated reader and print
    what the device decided: "granted", or "refused: " and the door's reason. At the return
    box (DOOR "returnbox") CARD is an item's barcode: it prints "returned: " with the route
    and the bin, or "refused: " and why the item was not taken.

    \b
    Exit status:
      0  granted or returned (or sent without asking, --wait 0)
      1  refused
      2  the reader could not be reached: nothing was presented
      3  presented, but the device gave no answer in time (a kiosk's
         reader and the scanner never answer; use --wait 0 there)
    """
    path = socket_path or str(Path(run_dir) / "doors" / f"{door}.sock")
    try:
        answer = send_sim_tap(path, card, answer_within=wait)
    except (OSError, EdgeError) as exc:
        click.echo(f"Error: cannot reach the reader of {door} at {path}: {exc}", err=True)
        raise SystemExit(2) from exc
    if not wait:
        click.echo(f"tapped {card} at {door}")
    elif answer is None:
        click.echo(f"presented {card} at {door}; the device gave no answer within {wait:g} s")
        raise SystemExit(3)
    elif answer == GRANTED or answer.startswith(RETURNED):
        click.echo(answer)
    else:
        click.echo(f"refused: {answer}")
        raise SystemExit(1)


@cli.command()
@click.option("--db", "db_path", envvar="LIBEDGE_DB", default="demo-run/central.db",
              show_default=True, type=Store(), help="Central's store (file or URL).")
@click.pass_context
def status(ctx: click.Context, db_path: str) -> None:
    """Show every device's last reported state (online, outbox, alarms, doors), and how many
    refused events central keeps and has dropped (`libedge admin rejected` lists them)."""
    from central.admin_cli import device_list, rejected_summary

    ctx.invoke(device_list, db_path=db_path)
    rejected_summary(db_path)


@cli.command()
@click.option("--db", "db_path", envvar="LIBEDGE_DB", required=True,
              type=Store(), help="Central's store (file or URL).")
@click.option("--listen", default="127.0.0.1:8080", show_default=True, metavar="HOST:PORT",
              help="Where to serve the pages (behind a TLS proxy in production).")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Server processes (one per core serves many staff at once best).")
def web(db_path: str, listen: str, workers: int) -> None:
    """Serve the staff web pages: access statistics, doors and alarms now, the fleet."""
    import os

    import uvicorn

    from central.staff_cli.common import store_at
    from central.web import hardening

    host, _, port = listen.rpartition(":")
    if not host or not port.isdigit():
        raise click.BadParameter(f"{listen!r} is not HOST:PORT", param_hint="--listen")
    store_at(db_path).conn.close()             # migrated once, before any worker starts
    os.environ["LIBEDGE_DB"] = db_path
    uvicorn.run("central.web.app:from_environment", factory=True, workers=workers, host=host,
                port=int(port), proxy_headers=True, log_level="warning", **hardening.SERVER)


@cli.command()
@click.option("--run-dir", default="demo-run", show_default=True, type=click.Path(),
              help="Where the demo keeps its broker, database and device state.")
@click.option("--duration", type=float, help="Stop after this many seconds (default: Ctrl-C).")
@click.option("--kiosk/--no-kiosk", default=None,
              help="Show the kiosk and signing pad windows too (default: when there is a screen).")
@click.option("--web-port", type=click.IntRange(1, 65535),
              help="Port of the staff web pages (default: 8080 when free, else any free one).")
@click.option("--database", default="", metavar="URL",
              help="Central's store on PostgreSQL: an empty database's postgresql:// URL"
                   " (default: a SQLite file in the run dir).")
def demo(run_dir: str, duration: float | None, kiosk: bool | None,
         web_port: int | None, database: str) -> None:
    """Run a broker, central, the staff web pages, two simulated locks and a kiosk on this
    machine."""
    from libedge_cli.demo import run

    run(Path(run_dir), duration, kiosk, web_port, database)
