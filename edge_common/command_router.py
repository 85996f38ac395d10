"""Central's commands on a device: each checked by the guard, then run by the route its device
registered for its name (`@router.command(OPEN)`, as central registers `@handler`s), and its
outcome reported to central."""

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from edge_common.commands import CommandGuard, CommandRefused, arguments
from edge_common.errors import EdgeError
from edge_common.protocol.commands import CommandResult
from edge_common.protocol.spec import Body

log = logging.getLogger(__name__)
Route = Callable[[Any], dict[str, Any] | None]   # the command's arguments Struct → its result


class CommandRouter:
    """Routes by command name; `report(result)` commits each outcome (the runtime's outbox).
    A route runs on the thread that handles the command unless registered with `on`, a
    function that runs it on the device's own coordinator and returns its result."""

    def __init__(self, guard: CommandGuard, dev: str,
                 report: Callable[[CommandResult], object]) -> None:
        self.guard = guard
        self.dev = dev
        self._report = report
        self._routes: dict[str, Route] = {}

    def route(self, name: str, fn: Route,
              on: Callable[[Callable[[], Any]], Any] | None = None) -> None:
        """Run `fn(args)` for command `name` (on the coordinator `on`, if given)."""
        if name in self._routes:
            raise ValueError(f"command {name!r} routed twice")
        self._routes[name] = fn if on is None else (lambda args: on(lambda: fn(args)))

    def command(self, *names: str, on: Callable[[Callable[[], Any]], Any] | None = None
                ) -> Callable[[Route], Route]:
        """Decorator form of `route` for one or more command names."""
        def register(fn: Route) -> Route:
            for name in names:
                self.route(name, fn, on)
            return fn
        return register

    def handle(self, body: dict[str, Any]) -> None:
        """Run a command from central once, before its expiry, and report the outcome."""
        name, nonce = str(body.get("name"))[:40], str(body.get("nonce"))[:64]
        try:
            cmd = self.guard.admit(body, datetime.now(UTC))
            args: Body = arguments(cmd)
            fn = self._routes.get(cmd.name)
            if fn is None:
                raise CommandRefused(f"{cmd.name} is not for this device",
                                     code="command_unknown")
            outcome = CommandResult(name=name, nonce=nonce, ok=True, result=fn(args) or {})
        except EdgeError as exc:
            log.warning("%s: command %s refused: %s", self.dev, name, exc.code)
            outcome = CommandResult(name=name, nonce=nonce, ok=False, code=exc.code)
        except Exception:  # noqa: BLE001 - report a failing command instead of losing it
            log.exception("%s: command %s failed", self.dev, name)
            outcome = CommandResult(name=name, nonce=nonce, ok=False, code="command_failed")
        self._report(outcome)
