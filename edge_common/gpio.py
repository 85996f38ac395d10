"""gpiozero as every device uses it: the pin factory its config names (gpiozero's `MockFactory`
is the simulator) and contacts to GND that report their changes."""

from collections.abc import Callable
from importlib.metadata import entry_points
from typing import overload

from gpiozero import Button
from gpiozero.pins import Factory

from edge_common.config import Pin


def pin_factory(name: str) -> Factory | None:
    """The gpiozero pin factory named in the config (None: gpiozero's own choice)."""
    if not name:
        return None
    (entry,) = entry_points(group="gpiozero_pin_factories", name=name)
    return entry.load()()


@overload
def input_pin(pin: Pin, report: Callable[[bool], object], factory: Factory | None,
              keep: list[Button] | None = None) -> Button: ...


@overload
def input_pin(pin: Pin | None, report: Callable[[bool], object], factory: Factory | None,
              keep: list[Button] | None = None) -> Button | None: ...


def input_pin(pin: Pin | None, report: Callable[[bool], object], factory: Factory | None,
              keep: list[Button] | None = None) -> Button | None:
    """A contact to GND on `pin` (internal pull-up) whose changes are reported as True (closed)
    / False (open); kept in `keep` if given, to be closed with the rest."""
    if pin is None:
        return None
    button = Button(pin, pull_up=True, bounce_time=None, pin_factory=factory)
    button.when_pressed = lambda: report(True)
    button.when_released = lambda: report(False)
    if keep is not None:
        keep.append(button)
    return button
