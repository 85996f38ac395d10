"""Staff commands for the backbone: devices, site keys, door cards and the access log."""

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click

from central import alarms as alarms_now
from central import backup as backups
from central import commands, fleet, fleet_view, ingest, presence, provision_cli, rejected
from central.circulation import branches, patrons, sites
from central.circulation.errors import CirculationError
from central.circulation.store import Store
from central.database import driver_errors, is_url
from central.staff_cli import admin as cli_admin
from central.staff_cli import desk as cli_desk
from central.staff_cli import forms as cli_forms
from central.staff_cli import items as cli_items
from central.staff_cli import setup as cli_setup
from central.staff_cli.common import (
    DB_OPTION,
    DEVICE_ID,
    SITE_ID,
    bounded,
    show,
    staff_action,
    store_at,
    with_store,
)
from central.store_option import StoreTarget
from edge_common.protocol import DEVICE_KINDS


@click.group()
def admin() -> None:
    """Manage central: devices, cards, logs."""


@admin.command("init")
@click.option("--db", "db_path", envvar="LIBEDGE_DB", required=True,
              type=StoreTarget(new=True),
              help="Where central's store goes: a SQLite file, or an empty PostgreSQL"
                   " database's postgresql:// URL.")
@click.option("--admin", "admin_id", help="Create the first administrator's staff account "
              "(who sets up branches, staff and categories).")
def init(db_path: str, admin_id: str | None) -> None:
    """Create central's database (an existing one is brought up to date, nothing else)."""
    existed = is_url(db_path) or (Path(db_path).exists() and Path(db_path).stat().st_size > 0)
    s = Store(store_at(db_path, init=True))
    try:
        if admin_id is not None and not s.scalar("SELECT 1 FROM staff WHERE id = ?", [admin_id]):
            branches.add_staff(s, admin_id, admin_id, "admin", [])
    except CirculationError as exc:
        raise click.ClickException(f"[{exc.code}] {exc}") from None
    finally:
        s.db.close()
    click.echo(f"{db_path} {'is up to date' if existed else 'created'}"
               + (f"; administrator {admin_id}" if admin_id else ""))


@admin.group()
def device() -> None:
    """Enrol, revoke and list devices."""


@device.command("enrol")
@with_store
@staff_action("device.enrol", "admin")
@click.argument("dev", type=DEVICE_ID)
@click.option("--site", required=True, type=SITE_ID, help="Branch id the device belongs to.")
@click.option("--kind", required=True, type=click.Choice(DEVICE_KINDS), help="What the device is.")
def device_enrol(s: Store, dev: str, site: str, kind: str) -> None:
    """Register DEV at a site and print the keys for its config: the site's card key and the
    device's own command key (a revoked device gets a new one)."""
    command_key = fleet.enrol(s.db, dev, site, kind)
    click.echo(f"enrolled {dev} ({kind}) at {site}; card_key = {sites.open_site(s.db, site)};"
               f" command_key = {command_key}")


@device.command("revoke")
@with_store
@staff_action("device.revoke", "admin")
@click.argument("dev", type=DEVICE_ID)  # never a service account, which revoking would lock out
@provision_cli.provision_option(required=False)
def device_revoke(s: Store, dev: str, provision_path: str | None) -> None:
    """Stop accepting DEV's messages and, with --provision, disable its broker account: the
    broker disconnects it at once and refuses it from then on (run it again after a broker
    failure: the broker is told even when central has revoked DEV already)."""
    revoked = fleet.revoke(s.db, dev)
    if provision_path:
        provision_cli.provision_config(provision_path).dynsec().disable(dev)
        click.echo(f"revoked {dev} at the broker" + (" and at central" if revoked else ""))
    elif revoked:
        click.echo(f"revoked {dev} at central; the broker was not told (no --provision)")
    else:
        raise click.ClickException(f"[device_unknown] no active device {dev!r}")


@device.command("list")
@DB_OPTION
@click.option("--json", "as_json", is_flag=True, help="As JSON (for scripts and web pages).")
def device_list(db_path: str, as_json: bool = False) -> None:
    """List devices: state, since when, versions, outbox, lists, alarms, doors."""
    views = fleet_view.devices(store_at(db_path))
    if as_json:
        show(views)
    for view in [] if as_json else views:
        click.echo(fleet_view.line(view))


@device.command("show")
@DB_OPTION
@click.argument("dev")
def device_show(db_path: str, dev: str) -> None:
    """Everything central knows of DEV and its last report, as JSON."""
    views = fleet_view.devices(store_at(db_path), dev)
    if not views:
        raise click.ClickException(f"[device_unknown] no device {dev!r}")
    show(views[0])


def rejected_summary(db_path: str) -> None:
    """One line: how many refused events are kept (the newest) and how many were dropped."""
    kept, dropped = rejected.summary(store_at(db_path))
    click.echo(f"refused events: {kept} kept (the newest), {dropped} dropped")


@admin.command("rejected")
@DB_OPTION
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 1_000_000),
              help="How many of the newest to show.")
def rejected_list(db_path: str, limit: int) -> None:
    """Events central refused for good, newest first: code, size, SHA-256 and why."""
    db = store_at(db_path)
    rows = db.execute("SELECT received_at, dev, type, code, size, sha256, message FROM rejected"
                      " ORDER BY n DESC LIMIT ?", [limit]).fetchall()
    for at, dev, type, code, size, sha, message in rows:
        click.echo(f"{at[:19]} {dev:<16} {type:<22} {code:<18} {size:>8} B"
                   f" sha256 {sha[:16]}… {message}")
    rejected_summary(db_path)


@admin.group()
def card() -> None:
    """A card's holder, by the card (cards are given with `patron add` or `patron card`)."""


def _set_blocked(s: Store, uid: str, kind: str, blocked: bool, note: str | None) -> None:
    holder = patrons.by_card(s, uid, kind)
    patrons.set_blocked(s, holder["id"], blocked, note)
    click.echo(f"patron {holder['id']} {'blocked' if blocked else 'unblocked'}")


CARD_KIND = click.option("--kind", type=click.Choice(patrons.CARD_KINDS), default="city",
                         show_default=True, help="A city-card UID or a library-card number.")


@card.command("block")
@with_store
@staff_action("card.block", at_login=True)
@click.argument("uid")
@CARD_KIND
@click.option("--note", help="Why (e.g. legal action).")
def card_block(s: Store, uid: str, kind: str, note: str | None) -> None:
    """Block the card's holder everywhere: every branch, and doors within seconds."""
    _set_blocked(s, uid, kind, True, note)


@card.command("unblock")
@with_store
@staff_action("card.unblock", at_login=True)
@click.argument("uid")
@CARD_KIND
def card_unblock(s: Store, uid: str, kind: str) -> None:
    """Lift the block of the card's holder."""
    _set_blocked(s, uid, kind, False, None)


@admin.command("command")
@with_store
@staff_action("command", "admin")
@click.argument("dev")
@click.argument("name")
@click.option("--arg", "args", multiple=True, metavar="KEY=VALUE", help="A command argument.")
@click.option("--ttl", default=60.0, show_default=True, type=click.FloatRange(1, 900),
              help="Seconds the command stays valid; a device refuses it afterwards.")
def command(s: Store, dev: str, name: str, args: tuple[str, ...], ttl: float) -> None:
    """Send command NAME (e.g. resync, open) to device DEV."""
    parsed = dict(a.split("=", 1) for a in args if "=" in a)
    if len(parsed) != len(args):
        raise click.BadParameter("use KEY=VALUE", param_hint="--arg")
    nonce = commands.issue(s.db, dev, name, parsed, ttl)
    click.echo(f"queued {name} for {dev} (nonce {nonce})")


@admin.command("prune")
@DB_OPTION
@click.option("--days", default=90, show_default=True, type=click.IntRange(7, 36500),
              help="Keep the ids of messages received in the last DAYS days.")
def prune_processed(db_path: str, days: int) -> None:
    """Forget old processed-message ids (run daily, e.g. from a systemd timer)."""
    before = datetime.now(UTC) - timedelta(days=days)
    click.echo(f"forgot {ingest.prune(store_at(db_path), before)} processed ids")


@admin.command("backup")
@DB_OPTION
@click.argument("target", type=click.Path(dir_okay=False, writable=True, path_type=Path))
def backup(db_path: str, target: Path) -> None:
    """Copy the store into a new file TARGET, consistent, while central runs."""
    try:
        size = backups.backup(store_at(db_path), target)
    except backups.BackupRefused as exc:
        raise click.ClickException(f"[{exc.code}] {exc}") from None
    click.echo(f"backed up {db_path} to {target} ({size:,} bytes)")


@admin.command("restore")
@click.option("--db", "db_path", envvar="LIBEDGE_DB", required=True,
              type=click.Path(dir_okay=False), help="Central's SQLite database, replaced.")
@click.argument("source", type=click.Path(dir_okay=False, path_type=Path))
@click.confirmation_option(prompt="Replace the whole store with the backup (stop central first)?",
                           help="Replace without asking.")
def restore(db_path: str, source: Path) -> None:
    """Replace the store with the backup SOURCE (stop central first); every device then copies
    its lists afresh."""
    try:
        marked = backups.restore(source, db_path)
    except backups.BackupRefused as exc:
        raise click.ClickException(f"[{exc.code}] {exc}") from None
    except driver_errors() as exc:
        raise click.ClickException(f"[db_unusable] {exc}") from None
    click.echo(f"restored {db_path} from {source}; {len(marked)} devices copy their lists afresh"
               " when next online" + (f" ({', '.join(marked)})" if marked else ""))


@admin.command("alarms")
@DB_OPTION
@click.option("--all", "show_all", is_flag=True, help="Also alarms that were cleared.")
def alarms(db_path: str, show_all: bool) -> None:
    """Door and return-box alarms (forced, held open, tamper, reader lost, fire release; jam,
    bin full, e-stop, offline too long), newest first."""
    shown = alarms_now.latest(store_at(db_path), open_only=not show_all)
    for a in shown:
        click.echo(f"{a.at[:19]} {a.site}/{a.dev}/{a.door:<12} {a.alarm:<18} "
                   f"{'ACTIVE' if a.active else 'cleared'}"
                   + (f" (acknowledged by {a.acked_by})" if a.acked_by else ""))
    if not shown:
        click.echo("no open alarms")


@admin.command("roster")
@with_store
@click.option("--site", help="Only this branch.")
def roster(s: Store, site: str | None) -> None:
    """Who entered a room by card and has not left by card (card hashes), per room."""
    rows = presence.inside(s.db, site)
    for r in rows:
        click.echo(f"{r.site}/{r.room:<14} card {r.card[:12]}… since {r.entered_at[:19]}")
    if not rows:
        click.echo("nobody recorded inside")


@admin.command("access-log")
@DB_OPTION
@click.option("--follow", "-f", is_flag=True, help="Keep printing new entries.")
@click.option("--limit", default=20, show_default=True, help="How many recent entries first.")
def access_log(db_path: str, follow: bool, limit: int) -> None:
    """Show door decisions as central recorded them (card hashes, never UIDs)."""
    db = store_at(db_path)
    last = 0
    rows = db.execute(
        "SELECT id, at, site, dev, door, result, card FROM access_log"
        " ORDER BY id DESC LIMIT ?", [limit]).fetchall()
    while True:
        for row_id, at, site, dev, door, result, hashed in sorted(rows):
            click.echo(f"{at[:19]} {site}/{dev}/{door:<10} {result:<14} card {hashed[:12]}…")
            last = max(last, row_id)
        if not follow:
            return
        time.sleep(0.5)
        rows = db.execute(
            "SELECT id, at, site, dev, door, result, card FROM access_log WHERE id > ?"
            " ORDER BY id", [last]).fetchall()



for _cmd in (cli_setup.COMMANDS + cli_desk.COMMANDS + cli_admin.COMMANDS + cli_forms.COMMANDS
             + provision_cli.COMMANDS):
    admin.add_command(_cmd)
for _cmd in cli_items.COMMANDS:
    cli_desk.item.add_command(_cmd)
for _cmd in provision_cli.DEVICE_COMMANDS:
    device.add_command(_cmd)
bounded(admin)
