"""Dataset sync on a device: deltas in order, paged pulls on a gap, a staged full copy from 0."""

import logging
import time
from collections.abc import Callable, Sequence

from edge_common.errors import EdgeError
from edge_common.replica import Change, Replicas, Verdict, classify
from edge_common.requests import Callback

log = logging.getLogger(__name__)
PULL_PAGE = 5000
PULL_TIMEOUT = 10.0

Ask = Callable[[str, dict, float, Callback], None]


class DataSync:
    """Keeps a device's replicated datasets current with central; runs on the coordinator only.

    It is given `ask(type, body, timeout, callback)`, which sends a request to central without
    waiting and later calls `callback(result, error)` on the coordinator thread; `changed()`,
    called when a pull moved a dataset's version; and `invalid()`, called for every malformed
    delta it ignores.
    """

    def __init__(self, dev: str, replicas: Replicas, datasets: Sequence[str], ask: Ask, *,
                 changed: Callable[[], None] = lambda: None,
                 invalid: Callable[[], None] = lambda: None,
                 check_interval: float = 60.0, clock: Callable[[], float] = time.monotonic):
        self.dev = dev
        self.datasets = tuple(datasets)
        self._replicas = replicas
        self._ask = ask
        self._changed = changed
        self._invalid = invalid
        self._check_interval = check_interval
        self._clock = clock
        self._pulling: dict[str, int] = {}  # dataset → token of the pull whose answer counts
        self._pull_from: dict[str, int] = {}  # dataset → version the current pull started from
        self._tokens = 0
        self._next_check = 0.0
        self._failures = 0

    def versions(self) -> dict[str, int]:
        """The version this device holds of every dataset (0: nothing yet)."""
        return {d: self._replicas.version(d) for d in self.datasets}

    def tick(self, now: float) -> None:
        """Pull every dataset when the periodic check is due (call it while the link is up)."""
        if now >= self._next_check:
            self._next_check = now + self._check_interval
            for d in self.datasets:
                self.pull(d)

    def link_up(self) -> None:
        """The link came back: check every dataset at the next tick."""
        self._next_check = 0.0

    def central_back(self) -> None:
        """Central serves again: forget pulls it may never answer and check at the next tick."""
        self._pulling.clear()
        self._next_check = 0.0
        self._failures = 0

    def resync(self) -> None:
        """Copy every dataset afresh from version 0 (central's `resync` command)."""
        for d in self.datasets:
            self.pull(d, since=0)

    def delta(self, body: dict) -> None:
        """Apply a delta from the sync topic on top of its predecessor; pull on a gap."""
        dataset, version, changes = body.get("dataset"), body.get("version"), body.get("changes")
        if dataset not in self.datasets or not isinstance(version, int) or not isinstance(
            changes, list
        ):
            self._reject()
            return
        if dataset in self._pulling:
            return
        verdict = classify(self._replicas.version(dataset), version)
        if verdict is Verdict.APPLY:
            try:
                self._replicas.apply(dataset, changes_of(changes), version)
            except ValueError:
                self._reject()
        elif verdict is Verdict.GAP:
            self.pull(dataset)

    def _reject(self) -> None:
        self._invalid()
        log.warning("%s: malformed sync delta ignored (sync_delta_invalid)", self.dev)

    def pull(self, dataset: str, since: int | None = None, after: str = "") -> None:
        """Fetch the changes since our version (or `since`) from central, page by page.

        Without `since`, nothing happens while a pull of the dataset is under way; with it,
        the new pull replaces the one under way. A pull from version 0 is a full copy: its
        pages are staged and swapped in at once with the last one (Replicas.apply_staged).
        """
        if since is None and dataset in self._pulling:
            return
        since = self._replicas.version(dataset) if since is None else since
        if not after:
            self._pull_from[dataset] = since
            if since == 0:
                self._replicas.stage(dataset, [], fresh=True)
        self._tokens += 1
        token = self._pulling[dataset] = self._tokens
        self._ask("sync.pull", {"dataset": dataset, "since": since, "after": after,
                                "limit": PULL_PAGE}, PULL_TIMEOUT,
                  lambda result, error: self._pulled(dataset, token, result, error))

    def _pulled(self, dataset: str, token: int, result: dict | None,
                error: EdgeError | None) -> None:
        if self._pulling.get(dataset) != token:
            return
        del self._pulling[dataset]
        if error is not None:
            self._failures += 1
            retry = min(self._check_interval, 2.0 ** self._failures)
            self._next_check = min(self._next_check, self._clock() + retry)
            log.info("%s: pull of %s failed (%s); retrying in %.0f s", self.dev, dataset,
                     error.code, retry)
            return
        self._failures = 0
        try:
            changes = changes_of(result["changes"])
            head, nxt = int(result["head"]), result.get("next")
        except (KeyError, TypeError, ValueError):
            log.warning("%s: malformed pull result (sync_pull_invalid)", self.dev)
            return
        full = self._pull_from.get(dataset) == 0
        if nxt:
            if full:
                self._replicas.stage(dataset, changes)
            else:
                self._replicas.apply(dataset, changes, None)
            self.pull(dataset, int(nxt["since"]), str(nxt["after"]))
        else:
            before = self._replicas.version(dataset)
            if full:
                self._replicas.apply_staged(dataset, changes, head)
            else:
                self._replicas.apply(dataset, changes, head)
            if head != before:
                self._changed()


def changes_of(raw: list) -> list[Change]:
    """Validate `[[key, value-or-null], ...]` from central."""
    out = []
    for item in raw:
        if (not isinstance(item, list) or len(item) != 2 or not isinstance(item[0], str)
                or not (item[1] is None or isinstance(item[1], dict))):
            raise ValueError("malformed change")
        out.append((item[0], item[1]))
    return out
