"""The box's alarms (`jam`, `bin_full`, `e_stop`, `reader_lost`, `offline_too_long`,
`printer_fault`), each at a part: in the retained status and as `returns.alarm` events."""

import logging
from datetime import UTC, datetime

from edge_common.protocol.returns import RETURNS_ALARM, BoxAlarm
from edge_common.runtime import DeviceRuntime

log = logging.getLogger(__name__)


class BoxAlarms:
    """Raised alarms by (part, code), with when each was raised (coordinator thread only)."""

    def __init__(self, runtime: DeviceRuntime) -> None:
        self.runtime = runtime
        self.raised: dict[tuple[str, str], datetime] = {}

    def __contains__(self, key: tuple[str, str]) -> bool:
        return key in self.raised

    def set(self, part: str, code: str, active: bool) -> None:
        """Raise or clear an alarm; a change goes to the status and, durably, to central."""
        key = (part, code)
        if (key in self.raised) == active:
            return
        since = datetime.now(UTC) if active else self.raised.pop(key)
        if active:
            self.raised[key] = since
        self.runtime.set_alarm(f"{part}:{code}", active)
        self.runtime.emit(RETURNS_ALARM, BoxAlarm(part=part, alarm=code, active=active,
                                                  since=since))
        log.warning("alarm %s at %s %s", code, part, "raised" if active else "cleared")

    def names(self) -> tuple[str, ...]:
        """`part:code` of every raised alarm, sorted."""
        return tuple(sorted(f"{part}:{code}" for part, code in self.raised))
