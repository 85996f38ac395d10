"""The item flow on its own parts: a real ledger and outbox, gpiozero MockFactory pins and a
runtime that never started (central out of reach), wired to a coordinator the test steps."""

import time

import pytest
from gpiozero.pins.mock import MockFactory

from edge_common.coordinator import Coordinator
from edge_common.readers import CardRead
from returnbox.events import Arrived, Eye, ItemRead
from returnbox.flow import ItemFlow
from returnbox.logdisplay import LogDisplay
from returnbox.parts import BoxParts
from tests.boxes import BINS, EYE, config, items


class Chute:
    """Items put in through the entry eye and the reader, arrivals at a bin's eye."""

    def __init__(self, flow: ItemFlow, steps: Coordinator, factory: MockFactory) -> None:
        self.flow = flow
        self.steps = steps
        self.factory = factory

    def put_in(self, barcode: str) -> None:
        """An item breaks the entry eye and is read."""
        self._pass(EYE)
        self.steps.post(ItemRead(CardRead(barcode, "barcode", "test", time.monotonic())))
        self.steps.run_pending()

    def arrive(self, bin: str) -> None:
        """An item passes `bin`'s arrival eye."""
        self._pass(BINS[bin][1])
        self.steps.run_pending()

    def _pass(self, pin: int) -> None:
        self.factory.pin(pin).drive_low()
        self.factory.pin(pin).drive_high()


@pytest.fixture
def chute(net, tmp_path):
    """An item flow on the parts of one box; its pins post to a coordinator nobody starts (the
    test hands the events over with `run_pending`)."""
    factory = MockFactory()
    steps = Coordinator("flow", {Eye: lambda e: flow.eye(e.broken),
                                 ItemRead: lambda e: flow.read(e.read),
                                 Arrived: lambda e: flow.arrived(e.bin)})
    parts = BoxParts(config(net, tmp_path), factory, LogDisplay(), steps.post)
    flow = ItemFlow(parts)
    yield Chute(flow, steps, factory)
    parts.close()


def test_one_item_on_the_belt_at_a_time_and_only_its_own_bin_s_eye_lands_it(chute):
    """Offline, B1 is sorted from the lists and runs to the sort-later bin; B2 put in meanwhile
    waits unrecorded, and an item seen at another bin lands nothing. B1's arrival lands it and
    starts B2: the belt carries one item at a time."""
    flow, pins = chute.flow, chute.flow.parts.pins
    chute.put_in("B1")
    assert items(flow.parts) == [("B1", "diverted", "later", "sort_later", None, 1)]
    assert pins.motor.value and [n for n, d in pins.diverters.items() if d.value] == ["later"]
    chute.put_in("B2")
    chute.arrive("shelf")
    assert [r[:2] for r in items(flow.parts)] == [("B1", "diverted")]
    assert pins.motor.value and [r.uid for r in flow.waiting] == ["B2"]
    chute.arrive("later")
    assert [r[:2] for r in items(flow.parts)] == [("B1", "arrived"), ("B2", "diverted")]
    assert pins.motor.value and not flow.waiting
