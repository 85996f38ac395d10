"""A return box for tests: the daemon's coordinator on gpiozero MockFactory pins driven by the
simulated belt, a simulated item reader (or a pty scanner), against the test network, and a
small library with items on loan."""

import sqlite3
import time
from contextlib import closing
from pathlib import Path

import msgspec
import tomli_w
from gpiozero.pins.mock import MockFactory

from central import fleet
from central.circulation import holds, loans, patrons, settings
from central.circulation.store import Store
from edge_common.readers import CardRead
from returnbox.box import ReturnBox
from returnbox.config import ReturnboxConfig
from returnbox.events import CardTap, ItemRead
from returnbox.logdisplay import LogDisplay
from tests.circ import card_holder, copy, install
from tests.harness import device_parts, wait_for

EYE, MOTOR, FLAP, ESTOP = 20, 21, 22, 23
# bin → (diverter, arrival, full)
BINS = {"holds": (2, 3, 4), "shelf": (5, 6, 7), "transit": (8, 9, 10), "later": (11, 12, 13),
        "staff": (14, 15, 16)}
RULES = [{"bin": "holds", "routes": ["hold_shelf"]},
         {"bin": "staff", "warnings": ["attachments"]},
         {"bin": "transit", "routes": ["transit"]},
         {"bin": "shelf", "routes": ["reshelve"]}]
ANA, BOR, STAFF = "04A1B2C3D4", "04B0B0B0B0", "04FF0001"


def library(net):
    """The box's branch and another: Ana has B1, B2, B3, K1 (with a CD) and T1 (the other
    branch's) on loan; H1 is also on loan to her and Bor waits for it; staff hold a card."""
    settings.store(net.db, other_branch_returns="transit")
    s = install(Store(net.db), branches=[(net.site, "Main Library"), ("other", "Other Library")])
    for barcode in ("B1", "B2", "B3", "B4", "B5", "H1"):
        copy(s, barcode, f"Title {barcode}", net.site)
    copy(s, "K1", "Kosovel", net.site, attachments="1 CD")
    copy(s, "T1", "Far away", "other")
    s.ana = card_holder(s, ANA, "Novak", net.site, first_name="Ana", email="ana@example.org")
    s.bor = card_holder(s, BOR, "Bor", net.site)
    staff = patrons.add_patron(s, "Kos", "adult", branch=net.site, is_staff=True)
    patrons.add_card(s, staff, STAFF)
    for barcode in ("B1", "B2", "B3", "B4", "B5", "H1", "K1", "T1"):
        loans.checkout(s, s.ana, barcode, net.site if barcode != "T1" else "other")
    holds.place(s, s.bor, "H1", net.site)
    return s


def config(net, tmp_path, *, reader=None, port=None, bins=None, printer="none", display=None,
           chute=None, **box) -> ReturnboxConfig:
    """The box's config: simulated reader and belt unless told otherwise (`chute`: the belt's
    socket for unread items put in from outside the process)."""
    key = fleet.enrol(net.db, "box-1", net.site, "returnbox") \
        if not net.db.execute("SELECT 1 FROM devices WHERE id = 'box-1'").fetchone() else None
    device, mqtt, outbox = device_parts(net.broker, tmp_path, "box-1", net.site, "returnbox",
                                        net.card_key, port=port, command_key=key,
                                        request_timeout=2.0, ack_timeout=2.0)
    raw = {
        "device": msgspec.to_builtins(device), "mqtt": msgspec.to_builtins(mqtt),
        "outbox": msgspec.to_builtins(outbox),
        "item_reader": reader or {"kind": "sim", "socket": str(tmp_path / "box.sock")},
        "card_reader": {"kind": "sim", "socket": str(tmp_path / "card.sock"), "name": "card"},
        "gpio": {"pin_factory": "mock", "entry_pin": EYE, "motor_pin": MOTOR,
                 "flap_lock_pin": FLAP, "estop_pin": ESTOP},
        "bins": [{"name": n, "diverter_pin": d, "arrival_pin": a, "full_pin": f,
                  "capacity": (bins or {}).get(n, 50)} for n, (d, a, f) in BINS.items()],
        "sorting": {"rules": RULES, "fallback": "later", "sort_later": "later"},
        "box": {"travel_time": 0.2, "jam_timeout": 6.0, "checkin_timeout": 2.0, **box},
        "simulator": {"belt": True, "travel_time": 0.2, "chute": chute},
        "printer": {"kind": printer},
        "display": display or {},
    }
    return msgspec.convert(raw, ReturnboxConfig)


def write_config(cfg: ReturnboxConfig, path: Path) -> Path:
    """The box's config as a TOML file for a daemon process (unset keys left out); `path`."""
    path.write_text(tomli_w.dumps(_without_none(msgspec.to_builtins(cfg))))
    return path


def _without_none(value):
    if isinstance(value, dict):
        return {k: _without_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_none(v) for v in value]
    return value


def build(net, tmp_path, **kw) -> ReturnBox:
    """An unstarted box on MockFactory pins with a log display."""
    box = ReturnBox(config(net, tmp_path, **kw), MockFactory(), LogDisplay())
    return box


def start(net, tmp_path, **kw) -> ReturnBox:
    """A started box that sees central and has synced its lists (if central runs)."""
    box = build(net, tmp_path, **kw)
    box.start()
    if net.central is not None:   # and every list it routes by, not the allow-list alone
        wait_for(lambda: box.runtime.central_up and all(
            box.runtime.synced_at(d) for d in box.runtime.datasets),
            what="box sees central and has its lists")
    return box


def insert(box: ReturnBox, barcode: str, answers: list | None = None) -> None:
    """An item into the chute: the eye, then the scanner's read."""
    assert box.parts.sim is not None
    box.parts.sim.insert()
    reply = answers.append if answers is not None else None
    box.post(ItemRead(CardRead(barcode, "barcode", "test", time.monotonic(), reply)))


def tap(box: ReturnBox, uid: str) -> None:
    """A card on the box's card reader."""
    box.post(CardTap(CardRead(uid, "uid", "card", time.monotonic())))


def items(box_or_path) -> list[tuple]:
    """(barcode, state, bin, route, refusal, offline) of every item in the box's ledger."""
    path = box_or_path if isinstance(box_or_path, str) else \
        f"{box_or_path.cfg.device.data_dir}/returnbox.db"
    with closing(sqlite3.connect(path)) as db:
        return db.execute("SELECT barcode, state, bin, route, refusal, offline FROM items"
                          " ORDER BY id").fetchall()


def settled(box, n: int) -> bool:
    """Whether n items are in the ledger and none is on its way any more."""
    rows = items(box)
    return len(rows) >= n and all(r[1] in ("arrived", "rejected", "jammed", "cleared")
                                  for r in rows)


def returns(net, barcode: str) -> list:
    """The returned_at of every loan of `barcode` that central closed."""
    return [r[0] for r in net.db.execute(
        "SELECT l.returned_at FROM loans l JOIN items i ON i.id = l.item_id"
        " WHERE i.barcode = ? AND l.returned_at IS NOT NULL", [barcode])]


def screens(box) -> list:
    """(screen, code) of every view the box showed."""
    return [(v.screen, v.code) for v in box.parts.display.shown]
