"""A door's relay, driven with gpiozero.

Wiring: the relay board's IN line on `relay_pin` (BCM numbering); many boards are
active-low, set `relay_active_high = false` for those. The lock is released while the relay
is energised.
"""

from gpiozero import DigitalOutputDevice

from lockd.config import DoorConfig


class Door:
    """One door's relay: `release()` energises it for the configured unlock time."""

    def __init__(self, cfg: DoorConfig, pin_factory=None):
        self.cfg = cfg
        self.relay = DigitalOutputDevice(
            cfg.relay_pin, active_high=cfg.relay_active_high, initial_value=False,
            pin_factory=pin_factory,
        )

    def release(self) -> None:
        """Energise the relay for `unlock_seconds`; a new release restarts the time."""
        self.relay.blink(on_time=self.cfg.unlock_seconds, off_time=0, n=1)

    @property
    def released(self) -> bool:
        """True while the relay is energised."""
        return bool(self.relay.value)

    def close(self) -> None:
        """De-energise and free the pin."""
        self.relay.close()
