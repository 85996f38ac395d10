"""A device's config as central changes it: a pushed version is checked with the daemon's own
schema, kept in the data folder (0600) and overlays the config file from then on, restarts
included; one that does not validate is refused and the config in force stays."""

import json
import logging
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

import msgspec

from edge_common.commands import CommandRefused
from edge_common.config import DeviceSection, describe
from edge_common.files import write_private
from edge_common.protocol.commands import ConfigArgs

log = logging.getLogger(__name__)
PUSHED = "config.json"
LOCAL = ("device", "mqtt")  # sections a pushed config never changes


class DeviceConfig(Protocol):
    """A daemon's whole config: whatever else it holds, it has the device section."""

    @property
    def device(self) -> DeviceSection:
        """Who the device is."""
        ...


C = TypeVar("C", bound=DeviceConfig)


class LiveConfig(Generic[C]):
    """The config in force (`current`): the file's, or the newest version central pushed."""

    def __init__(self, base: C, schema: type[C]) -> None:
        self._schema = schema
        self._base = msgspec.to_builtins(base)
        self._path = Path(base.device.data_dir) / PUSHED
        self.current = base
        try:
            pushed = msgspec.json.decode(self._path.read_bytes(), type=ConfigArgs)
            if pushed.version > base.device.config_version:
                self.current = self.check(pushed)
        except FileNotFoundError:
            pass
        except (msgspec.DecodeError, CommandRefused) as exc:
            log.warning("%s: pushed config ignored (config_invalid): %s", self._path, exc)

    @property
    def version(self) -> int:
        """The version of central's config in force (0: only the file's own)."""
        return self.current.device.config_version

    def check(self, args: ConfigArgs) -> C:
        """The config `args` makes, or CommandRefused: `config_stale` (not newer than the one
        in force) or `config_invalid` (it names the key)."""
        if args.version <= self.current.device.config_version:
            raise CommandRefused(f"config v{args.version} is not newer than "
                                 f"v{self.current.device.config_version}", code="config_stale")
        raw: dict[str, Any] = {k: v for k, v in args.config.items() if k not in LOCAL}
        raw.update({k: self._base[k] for k in LOCAL if k in self._base})
        raw["device"] = {**raw["device"], "config_version": args.version}
        try:
            return msgspec.convert(raw, self._schema)
        except msgspec.ValidationError as exc:
            raise CommandRefused(describe(str(exc)), code="config_invalid") from exc

    def take(self, args: ConfigArgs) -> C:
        """Check the config `args` makes (raising as `check`), keep it durably and make it the
        one in force; returns it for the daemon to apply."""
        new = self.check(args)
        write_private(self._path, json.dumps(msgspec.to_builtins(args)))
        self.current = new
        return new

    def keep_for_next_start(self, args: ConfigArgs) -> dict[str, Any]:
        """Central's `config` for a daemon that applies nothing live: checked, kept, and in
        force from the next start (the status reports it from then on)."""
        self.take(args)
        log.warning("config v%d kept for the next start", args.version)
        return {"version": args.version, "restart_needed": True}
