"""The lock daemon: card read → local decision → relay → access event through the outbox."""

import logging
import queue
import signal
import threading
import time
from datetime import UTC, date, datetime
from importlib.metadata import entry_points

import click
import msgspec
from edge_common.readers import CardRead, open_reader

from edge_common import __version__
from edge_common import config as config_mod
from edge_common.cardid import card_hash
from edge_common.errors import EdgeError
from edge_common.outbox import Priority
from edge_common.runtime import DeviceRuntime
from lockd.config import LockdConfig
from lockd.decision import GRANTED, Situation, decide
from lockd.door import Door

log = logging.getLogger(__name__)
ALLOWLIST = "allowlist"
CALENDAR = "calendar"
_decode = msgspec.json.Decoder()


def pin_factory(name: str):
    """The gpiozero pin factory named in the config (None: gpiozero's own choice)."""
    if not name:
        return None
    (entry,) = entry_points(group="gpiozero_pin_factories", name=name)
    return entry.load()()


class LockDaemon:
    """Doors, their readers and the device runtime, with one thread deciding."""

    def __init__(self, cfg: LockdConfig, factory=None, clock=lambda: datetime.now(UTC)):
        self.cfg = cfg
        self.key = bytes.fromhex(cfg.device.card_key)
        self.clock = clock
        self.runtime = DeviceRuntime(
            cfg.device, cfg.mqtt, cfg.outbox, version=__version__,
            datasets=[ALLOWLIST, CALENDAR], status_extra=self._status,
        )
        factory = factory if factory is not None else pin_factory(cfg.gpio.pin_factory)
        self.doors = {d.id: Door(d, factory) for d in cfg.doors}
        self.readers = {d.id: open_reader(d.reader) for d in cfg.doors}
        self.last: dict[str, dict] = {}
        self._granted: dict[tuple[str, str], float] = {}
        self._events: queue.SimpleQueue = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="lockd", daemon=True)

    def start(self) -> None:
        """Start the runtime, the deciding thread and every reader."""
        self.runtime.start()
        self._thread.start()
        for door_id, reader in self.readers.items():
            reader.start(
                lambda read, d=door_id: self._events.put(("card", d, read)),
                lambda state, detail, d=door_id: self._events.put(("reader", d, state)),
            )

    def stop(self) -> None:
        """Stop readers, the deciding thread, the runtime; leave every relay de-energised."""
        for reader in self.readers.values():
            reader.stop()
        self._events.put(("stop", None, None))
        self._thread.join(5)
        self.runtime.stop()
        for door in self.doors.values():
            door.close()

    def _run(self) -> None:
        while True:
            kind, door_id, arg = self._events.get()
            if kind == "stop":
                return
            try:
                if kind == "card":
                    self.present(door_id, arg)
                else:
                    self.runtime.set_alarm(f"reader_lost:{door_id}", arg != "ok")
            except Exception:  # noqa: BLE001 - one bad read must not stop the door
                log.exception("door %s: handling %s failed", door_id, kind)

    def present(self, door_id: str, read: CardRead) -> str:
        """Decide on a presented card, release the door if granted, log the decision."""
        hashed = card_hash(self.key, read.uid)
        raw = self.runtime.lookup(ALLOWLIST, hashed)
        door = self.doors[door_id]
        now = self.clock()
        last = self._granted.get((door_id, hashed))
        synced = self.runtime.replicas.synced_at(ALLOWLIST)
        situation = Situation(
            today=now.astimezone(door.cfg.schedule.zone).date(),
            open_now=door.cfg.schedule.is_open(now, self._closed_day),
            list_age=None if synced is None else time.time() - synced,
            since_last_grant=None if last is None else read.at - last,
        )
        result = decide(_decode.decode(raw) if raw else None, door.cfg.policy, situation)
        if result == GRANTED:
            self._granted[(door_id, hashed)] = read.at
            door.release()
        self.runtime.emit("access.decision", {"door": door_id, "card": hashed, "result": result},
                          Priority.NORMAL)
        self.last[door_id] = {"result": result}
        log.info("door %s: %s", door_id, result)
        return result

    def _closed_day(self, day: date) -> bool:
        raw = self.runtime.lookup(CALENDAR, day.isoformat())
        return bool(raw and _decode.decode(raw).get("closed"))

    def _status(self) -> dict:
        return {"doors": {d: {"released": door.released, **self.last.get(d, {})}
                          for d, door in self.doors.items()}}


@click.command()
@click.option("--config", "config_path", required=True, type=click.Path(dir_okay=False),
              help="lockd's TOML configuration file.")
@click.option("--check-config", is_flag=True, help="Check the configuration and exit.")
def main(config_path: str, check_config: bool) -> None:
    """Run the door daemon until SIGTERM or Ctrl-C."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        cfg = config_mod.load(config_path, LockdConfig)
    except EdgeError as exc:
        raise click.ClickException(f"{exc.code}: {exc}") from exc
    if check_config:
        click.echo(f"{config_path}: ok ({len(cfg.doors)} doors)")
        return
    daemon = LockDaemon(cfg)
    stopped = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopped.set())
    daemon.start()
    stopped.wait()
    daemon.stop()


if __name__ == "__main__":
    main()
