"""The device side of commands (protocol.commands.Command): a command for another device, one
not signed by central with this device's key, a stale or a replayed one is refused."""

import sqlite3
import threading
from datetime import UTC, datetime, timedelta

import msgspec

from edge_common.errors import EdgeError
from edge_common.migrations import apply, connect
from edge_common.protocol.commands import Command, authentic, command_args, unmasked
from edge_common.protocol.spec import Body

MAX_TTL = timedelta(minutes=15)


class CommandRefused(EdgeError, PermissionError):
    """A command that must not run: expired, replayed, too far in the future or malformed."""

    code = "command_refused"


def _schema(db: sqlite3.Connection) -> None:
    db.execute("CREATE TABLE seen_nonces (nonce TEXT PRIMARY KEY, expires TEXT NOT NULL)")


MIGRATIONS = [("commands_0001_nonces", _schema)]


class CommandGuard:
    """Checks commands for this device and remembers accepted nonces until their command
    expires, across restarts. Without a command key every command is refused."""

    def __init__(self, path: str, dev: str, key: bytes | None) -> None:
        self._db = connect(path, synchronous="FULL")
        apply(self._db, MIGRATIONS)
        self._lock = threading.Lock()
        self._dev = dev
        self._key = key

    def admit(self, body: dict, now: datetime) -> Command:
        """Validate a command body and record its nonce, or raise CommandRefused with a code;
        the command comes back as central issued it (its secret argument unmasked)."""
        try:
            cmd = msgspec.convert(body, Command)
        except msgspec.ValidationError as exc:
            raise CommandRefused(str(exc), code="command_invalid") from exc
        if cmd.dev != self._dev:
            raise CommandRefused(f"command for {cmd.dev}", code="command_wrong_device")
        if self._key is None:
            raise CommandRefused("no command key configured", code="command_key_missing")
        if not authentic(self._key, cmd):
            raise CommandRefused("command not signed by central", code="command_unauthenticated")
        if cmd.expires <= now:
            raise CommandRefused("command expired", code="command_expired")
        if cmd.expires > now + MAX_TTL:
            raise CommandRefused("command expiry too far ahead", code="command_invalid")
        with self._lock:
            conn = self._db
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.execute("DELETE FROM seen_nonces WHERE expires <= ?", (_utc(now),))
                seen = conn.execute(
                    "INSERT OR IGNORE INTO seen_nonces VALUES (?, ?)",
                    (cmd.nonce, _utc(cmd.expires)),
                ).rowcount == 0
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        if seen:
            raise CommandRefused("command replayed", code="command_replayed")
        return unmasked(self._key, cmd)

    def close(self) -> None:
        """Close the database."""
        self._db.close()


def arguments(cmd: Command) -> Body:
    """A command's arguments as their declared Struct, or CommandRefused: `command_unknown`
    for a command no device declares, `command_invalid` for bad arguments."""
    try:
        return command_args(cmd.name, cmd.args)
    except KeyError:
        raise CommandRefused(f"unknown command {cmd.name}", code="command_unknown") from None
    except msgspec.ValidationError as exc:
        raise CommandRefused(f"{cmd.name}: {exc}", code="command_invalid") from exc


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()
