"""A simulated city: doors, return boxes and kiosks in one asyncio loop, on the real wire."""

import asyncio
import random
import threading
from dataclasses import dataclass
from typing import Any

from bench import city_probe
from bench.bench_rss import add_cards, card_uid
from bench.sim_device import SimDevice, Tally
from central import datasets, fleet
from central.circulation import sites
from edge_common import envelope
from edge_common.cardid import card_hash
from edge_common.protocol.circulation import ACCOUNT_SUMMARY, Card
from edge_common.protocol.datasets import ALLOWLIST, SYNC_PULL, SyncPull
from edge_common.protocol.doors import ACCESS_DECISION, AccessDecision
from provisioning.broker import Account
from tests.harness import Network, wait_for

PREFIX = {"lockd": "door", "returnbox": "box", "kiosk": "kiosk"}
RESULTS = ("granted",) * 19 + ("patron_blocked",)


@dataclass(frozen=True)
class Mix:
    """What a city's devices do: the shares of each kind and how often each acts."""

    doors: float = 0.7
    kiosks: float = 0.15  # return boxes: the rest
    door_rate: float = 0.2  # decisions a second at each door: a tap every 5 s, at its busiest
    request_rate: float = 0.5  # requests a second at each kiosk
    status_every: float = 30.0  # seconds between a return box's statuses
    probe_rate: float = 10.0  # raw MQTT round trips a second, the requests' reference
    window: int = 100  # events a device has sent and not yet seen acknowledged, at most
    ack_timeout: float = 10.0  # seconds before an unacknowledged event is sent again
    per_site: int = 100  # devices per branch


def kinds(count: int, mix: Mix) -> list[str]:
    """Each device's kind, in the mix's shares, with at least one kiosk and one box."""
    kiosks = max(1, round(count * mix.kiosks))
    boxes = max(1, round(count * (1 - mix.doors - mix.kiosks)))
    return ["lockd"] * (count - kiosks - boxes) + ["returnbox"] * boxes + ["kiosk"] * kiosks


class City:
    """A fleet enrolled in a Network's store and broker, simulated in a thread of its own."""

    def __init__(self, net: Network, count: int, mix: Mix | None = None, cards: int = 1000,
                 seed: int = 0) -> None:
        self.net, self.mix = net, mix or Mix()
        self.tally = Tally()
        self.raw: list[float] = []  # round trips of the probe
        self.rng = random.Random(seed)
        self.sites = [net.site] + [f"branch-{n}" for n in range(1, count // self.mix.per_site)]
        add_cards(net.db, net.site, cards)
        self.keys = {s: bytes.fromhex(sites.open_site(net.db, s)) for s in self.sites}
        self.cards = {s: [card_hash(k, card_uid(n)) for n in range(cards)]
                      for s, k in self.keys.items()}
        self.devices = self._enrol(count)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._acting: list[asyncio.Task[Any]] = []
        self._up = threading.Event()
        self._thread = threading.Thread(target=asyncio.run, args=(self._main(),), daemon=True,
                                        name="city")

    def _enrol(self, count: int) -> list[SimDevice]:
        """Enrol every device at central and give it a broker account, in one go each."""
        devices = []
        with self.net.db.transaction():
            for n, kind in enumerate(kinds(count, self.mix)):
                dev, site = f"{PREFIX[kind]}-{n}", self.sites[n % len(self.sites)]
                fleet.enrol(self.net.db, dev, site, kind)
                self.net.broker.add(Account(dev, f"{dev}-pw", site=site))
                devices.append(SimDevice(dev, site, kind, f"{dev}-pw", self.net.broker.port,
                                         self.tally, window=self.mix.window,
                                         ack_timeout=self.mix.ack_timeout))
            for d in devices:
                d.version = datasets.head(self.net.db, d.site, ALLOWLIST)
        city_probe.accounts(self.net.broker)
        # Through the dynamic-security plugin (`reload`) the 4,002 commands of 2,000 devices did
        # not answer within two minutes; the broker starts again from a file that holds them
        # all (before central or any device connects).
        self.net.broker.stop()
        self.net.broker.start()
        return devices

    def of_kind(self, kind: str) -> list[SimDevice]:
        """The devices of one kind."""
        return [d for d in self.devices if d.kind == kind]

    def backlog(self) -> int:
        """Events in every outbox, not yet acknowledged."""
        return sum(d.backlog for d in self.devices)

    def start(self) -> None:
        """Connect the whole fleet, then let every device act."""
        self._thread.start()
        wait_for(lambda: self._up.is_set() or not self._thread.is_alive(), what="the city up")
        if not self._up.is_set():
            raise RuntimeError("the city stopped before it was up")

    def burst(self, per_door: int) -> int:
        """Put `per_door` decisions in every door's outbox at once, as a fleet back from an
        outage holds them; how many in all."""
        doors = self.of_kind("lockd")

        def fill() -> None:
            for d in doors:
                for _ in range(per_door):
                    self._decide(d)

        if self._loop is not None:
            self._loop.call_soon_threadsafe(fill)
        return per_door * len(doors)

    def calm(self) -> None:
        """Stop every device acting; connections, outboxes and re-sends go on."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(lambda: [t.cancel() for t in self._acting])

    def stop(self) -> None:
        """Disconnect the fleet and end its thread."""
        if self._loop is not None and self._stopping is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stopping.set)
        if self._thread.is_alive():
            self._thread.join(60)

    def __enter__(self) -> "City":
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        links = [asyncio.create_task(d.run()) for d in self.devices]
        try:
            await asyncio.gather(*(d.connected.wait() for d in self.devices))
            sample = envelope.encode(envelope.make(SYNC_PULL.type, self.devices[0].dev,
                                                   SyncPull(dataset=ALLOWLIST, since=0)))
            links.append(asyncio.create_task(city_probe.probe(
                self.net.broker.port, self.mix.probe_rate, sample, self.raw)))
            self._acting = [asyncio.create_task(self._act(d)) for d in self.devices]
            self._up.set()
            await self._stopping.wait()
        finally:
            for t in self._acting + links:
                t.cancel()
            await asyncio.gather(*self._acting, *links, return_exceptions=True)

    async def _act(self, d: SimDevice) -> None:
        """What a device of its kind does, at the mix's pace."""
        cards, mix, rng = self.cards[d.site], self.mix, self.rng
        while True:
            if d.kind == "lockd":
                await asyncio.sleep(rng.expovariate(mix.door_rate))
                self._decide(d)
            elif d.kind == "kiosk":
                await asyncio.sleep(rng.expovariate(mix.request_rate))
                if rng.random() < 0.5:
                    await d.request(ACCOUNT_SUMMARY, Card(card=rng.choice(cards)))
                else:
                    await d.request(SYNC_PULL, SyncPull(dataset=ALLOWLIST, since=d.version))
            else:
                await asyncio.sleep(mix.status_every * rng.uniform(0.5, 1.5))
                await d.status()

    def _decide(self, d: SimDevice) -> None:
        """A door's decision on a card of its branch, into its outbox."""
        rng = self.rng
        d.event(ACCESS_DECISION, AccessDecision(
            door="main", card=rng.choice(self.cards[d.site]), result=rng.choice(RESULTS),
            direction=rng.choice(("in", "out"))))
