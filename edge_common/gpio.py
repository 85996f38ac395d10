"""The gpiozero pin factory a device's config names (gpiozero's `MockFactory` is the simulator)."""

from importlib.metadata import entry_points

from gpiozero.pins import Factory


def pin_factory(name: str) -> Factory | None:
    """The gpiozero pin factory named in the config (None: gpiozero's own choice)."""
    if not name:
        return None
    (entry,) = entry_points(group="gpiozero_pin_factories", name=name)
    return entry.load()()
