"""What staff see on the maintenance screen: link, outbox, data, printer, readers, problems.

Facts carry text keys (kiosk/texts.py LABELS) and parameters; the UI translates them. Gathering
them may wait on the printer, so it runs on the session thread, not Kivy's.
"""

import logging
import re
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Literal

from edge_common.runtime import DeviceRuntime
from edge_common.status import Health

Level = Literal["ok", "warning", "error"]
MAX_MESSAGE = 160
PERSONAL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+|\b[0-9A-Fa-f]{8,}\b")  # e-mails, card UIDs
PAPER: dict[str, Level] = {"ok": "ok", "none": "ok", "low": "warning", "unknown": "warning",
                           "out": "error", "unavailable": "error"}
READERS: dict[str, tuple[str, Level]] = {"ok": ("maint_working", "ok"),
                                         "lost": ("maint_not_working", "error")}


@dataclass(frozen=True)
class Fact:
    """One line of the screen: label and value text keys, their parameters, and a level."""

    label: str
    value: str
    level: Level = "ok"
    params: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Problem:
    """A logged warning or error as staff see it: no traceback, card numbers masked."""

    at: datetime
    logger: str
    message: str
    level: Level
    count: int = 1


class RecentProblems(logging.Handler):
    """A logging handler keeping the last `size` WARNING+ records; repeats are counted."""

    def __init__(self, size: int = 8, level: int = logging.WARNING) -> None:
        super().__init__(level)
        self._items: deque[Problem] = deque(maxlen=size)

    def emit(self, record: logging.LogRecord) -> None:
        """Keep the record's time, logger and masked message (called under the handler lock)."""
        try:
            message = PERSONAL.sub("…", record.getMessage())[:MAX_MESSAGE]
        except Exception:  # noqa: BLE001 - a bad log call must not break logging
            self.handleError(record)
            return
        level: Level = "error" if record.levelno >= logging.ERROR else "warning"
        problem = Problem(datetime.fromtimestamp(record.created), record.name, message, level)
        last = self._items[-1] if self._items else None
        if last and (last.logger, last.message, last.level) == (record.name, message, level):
            self._items[-1] = replace(problem, count=last.count + 1)
        else:
            self._items.append(problem)

    def recent(self) -> list[Problem]:
        """The kept problems, newest first."""
        self.acquire()
        try:
            return list(reversed(self._items))
        finally:
            self.release()


@dataclass(frozen=True)
class Limits:
    """After how many seconds a fact turns into a warning or an error."""

    link_down_error: float = 900.0
    outbox_age_warning: float = 300.0
    data_age_warning: float = 3600.0
    data_age_error: float = 86400.0


class Maintenance:
    """Gathers the facts of one kiosk from its runtime, printer, readers and log."""

    def __init__(self, runtime: DeviceRuntime | None, printer_status: Callable[[], str],
                 problems: RecentProblems, readers: Callable[[], dict[str, str]] = dict, *,
                 limits: Limits = Limits(), clock: Callable[[], float] = time.time) -> None:
        self.runtime = runtime
        self.printer_status = printer_status
        self.problems = problems
        self.readers = readers
        self.limits = limits
        self.clock = clock

    def facts(self) -> list[Fact]:
        """Everything staff should know, in screen order."""
        now = self.clock()
        if self.runtime is None:
            facts = [Fact("maint_link", "maint_standalone")]
        else:
            health = self.runtime.health()
            facts = [self._device(self.runtime), self._link(now, health),
                     *self._outbox(now, health), *self._datasets(now, health)]
        return [*facts, self._printer(), *self._readers(), *self._problems()]

    def _device(self, rt: DeviceRuntime) -> Fact:
        return Fact("maint_device", "maint_raw", params={"text": f"{rt.device.id} {rt.version}"})

    def _link(self, now: float, health: Health) -> Fact:
        since = health.central_since
        params = {"since": datetime.fromtimestamp(since), "ago": _ago(now, since)}
        if health.central_up:
            return Fact("maint_link", "maint_up_since", "ok", params)
        level: Level = "error" if now - since >= self.limits.link_down_error else "warning"
        value = "maint_no_central" if health.link_up else "maint_down_since"
        return Fact("maint_link", value, level, params)

    def _outbox(self, now: float, health: Health) -> list[Fact]:
        dropped = Fact("maint_dropped", "maint_count", "warning" if health.dropped else "ok",
                       {"count": health.dropped})
        if health.oldest_at is None:
            return [Fact("maint_outbox", "maint_outbox_empty"), dropped]
        ago = _ago(now, health.oldest_at)
        level: Level = ("error" if health.over_capacity else "warning"
                        if ago.total_seconds() >= self.limits.outbox_age_warning else "ok")
        return [Fact("maint_outbox", "maint_outbox_waiting", level,
                     {"count": health.outbox_depth, "ago": ago}), dropped]

    def _datasets(self, now: float, health: Health) -> list[Fact]:
        facts: list[Fact] = []
        for name, data in health.datasets.items():
            if data.synced_at is None:
                facts.append(Fact("maint_dataset", "maint_never_synced", "error",
                                  {"dataset": name}))
                continue
            age = now - data.synced_at
            level: Level = ("error" if age >= self.limits.data_age_error else
                            "warning" if age >= self.limits.data_age_warning else "ok")
            facts.append(Fact("maint_dataset", "maint_version", level, {
                "dataset": name, "version": data.version, "ago": _ago(now, data.synced_at)}))
        return facts

    def _printer(self) -> Fact:
        state = self.printer_status()
        if state in PAPER:
            return Fact("maint_printer", f"maint_paper_{state}", PAPER[state])
        return Fact("maint_printer", "maint_raw", "warning", {"text": state})

    def _readers(self) -> list[Fact]:
        facts = []
        for name, state in sorted(self.readers().items()):
            value, level = READERS.get(state, ("maint_raw", "warning"))
            facts.append(Fact("maint_reader", value, level, {"name": name, "text": state}))
        return facts

    def _problems(self) -> list[Fact]:
        recent = self.problems.recent()
        if not recent:
            return [Fact("maint_problems", "maint_none_logged")]
        return [Fact("maint_logged", "maint_problem" if p.count == 1 else "maint_problem_repeated",
                     p.level, {"at": p.at, "logger": p.logger, "message": p.message,
                               "count": p.count}) for p in recent]


def _ago(now: float, then: float) -> timedelta:
    """How long ago `then` was (never negative, whatever the clocks say)."""
    return timedelta(seconds=max(0.0, now - then))
