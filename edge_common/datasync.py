"""Dataset sync on a device: deltas in order, paged pulls on a gap, a staged full copy from 0."""

import logging
import time
from collections.abc import Callable, Sequence

import msgspec

from edge_common.errors import EdgeError
from edge_common.protocol import Body, Message, packed
from edge_common.protocol.datasets import (
    JSON_PAGE,
    SYNC_PULL,
    SyncDelta,
    SyncPage,
    SyncPull,
    check_row,
)
from edge_common.protocol.packed import Row
from edge_common.replica import Replicas, Verdict, classify

log = logging.getLogger(__name__)
PULL_PAGE = JSON_PAGE  # rows asked for a page of the JSON form
PULL_TIMEOUT = 10.0
_json = msgspec.json.Encoder()

Ask = Callable[[Message, Body, float, Callable[[SyncPage | None, EdgeError | None], None]],
              None]


class DataSync:
    """Keeps a device's replicated datasets current with central; runs on the coordinator only.

    It is given `ask(message, body, timeout, callback)`, which sends a request to central
    without waiting and later calls `callback(answer, error)` on the coordinator; `changed()`,
    called when a pull moved a dataset's version; and `invalid()`, called for every malformed
    delta it ignores.
    """

    def __init__(self, dev: str, replicas: Replicas, datasets: Sequence[str], ask: Ask, *,
                 changed: Callable[[], None] = lambda: None,
                 invalid: Callable[[], None] = lambda: None,
                 check_interval: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
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
        self._format = packed.FORMAT  # 1 while central answers only the JSON form
        self._copied_as_of: dict[str, int] = {}  # dataset → head a packed copy started at

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
        self._format = packed.FORMAT   # central may have been upgraded meanwhile

    def resync(self) -> None:
        """Copy every dataset afresh from version 0 (central's `resync` command)."""
        for d in self.datasets:
            self.pull(d, since=0)

    def delta(self, body: dict) -> None:
        """Apply a delta from the sync topic on top of its predecessor; pull on a gap.

        A delta that is not a `SyncDelta` of a dataset this device keeps, or holds a row that
        is not that dataset's row, is counted and ignored: nothing of it is applied.
        """
        try:
            delta = msgspec.convert(body, SyncDelta)
            if delta.dataset not in self.datasets:
                raise ValueError(f"dataset {delta.dataset} not kept here")
            changes = rows_of(delta.dataset, delta.changes)
        except (msgspec.ValidationError, ValueError):
            self._reject()
            return
        if delta.dataset in self._pulling:
            return
        verdict = classify(self._replicas.version(delta.dataset), delta.version)
        if verdict is Verdict.APPLY:
            self._replicas.apply(delta.dataset, changes, delta.version)
        elif verdict is Verdict.GAP:
            self.pull(delta.dataset)

    def _reject(self) -> None:
        self._invalid()
        log.warning("%s: malformed sync delta ignored (sync_delta_invalid)", self.dev)

    def pull(self, dataset: str, since: int | None = None, after: str = "") -> None:
        """Fetch the changes since our version (or `since`) from central, page by page.

        Without `since`, nothing happens while a pull of the dataset is under way; with it,
        the new pull replaces the one under way. A pull from version 0 is a full copy: its
        pages are staged and swapped in at once with the last one (Replicas.apply_staged).
        Packed, a copy comes in key order as of its first page's head; what changed since is
        pulled right after.
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
        limit = packed.PAGE if self._format == packed.FORMAT else PULL_PAGE
        self._ask(SYNC_PULL, SyncPull(dataset=dataset, since=since, after=after, limit=limit,
                                      format=self._format), PULL_TIMEOUT,
                  lambda page, error: self._pulled(dataset, token, page, error, (since, after)))

    def _pulled(self, dataset: str, token: int, page: SyncPage | None,
                error: EdgeError | None, asked: tuple[int, str]) -> None:
        """The answer to a pull asked from the cursor `asked` (since, after)."""
        if self._pulling.get(dataset) != token:
            return
        del self._pulling[dataset]
        if error is not None and error.code == "bad_body" and self._format != 1:
            log.info("%s: central answers pulls only in the JSON form; asking for it", self.dev)
            self._format = 1
            self.pull(dataset, *asked)
            return
        if error is not None or page is None:
            self._failures += 1
            retry = min(self._check_interval, 2.0 ** self._failures)
            self._next_check = min(self._next_check, self._clock() + retry)
            log.info("%s: pull of %s failed (%s); retrying in %.0f s", self.dev, dataset,
                     error.code if error else "no_answer", retry)
            return
        self._failures = 0
        self._keep(dataset, page, first=not asked[1])

    def _keep(self, dataset: str, page: SyncPage, first: bool) -> None:
        """Keep a page of a pull (`first`: its first page): staged for a full copy, else
        applied; the last page moves the version. The next page is asked for first, so that
        central makes it while this one is unpacked, checked and written; a page that is
        not kept (malformed, or not written) drops the pull, and the next page with it."""
        head, nxt = page.head, page.next
        start = self._pull_from.get(dataset, 0)
        if head < start:
            log.warning("%s: central's %s is at version %d, behind this copy's %d (central_behind,"
                        " restored from a backup?): copying it afresh", self.dev, dataset, head,
                        start)
            self.pull(dataset, since=0)
            return
        full = start == 0
        if full and first:     # a packed copy pages by key: it holds this head's rows
            self._copied_as_of.pop(dataset, None)
            if page.packed is not None:
                self._copied_as_of[dataset] = head
        if nxt:
            self.pull(dataset, nxt.since, nxt.after)
        try:
            changes = packed.unpack(dataset, page.packed) if page.packed is not None else \
                rows_of(dataset, page.changes)
        except ValueError:
            self._pulling.pop(dataset, None)
            log.warning("%s: malformed pull result (sync_pull_invalid)", self.dev)
            return
        if nxt:
            try:
                if full:
                    self._replicas.stage(dataset, changes)
                else:
                    self._replicas.apply(dataset, changes, None)
            except BaseException:
                self._pulling.pop(dataset, None)  # no later page may follow one not kept
                raise
        else:
            before = self._replicas.version(dataset)
            version = self._copied_as_of.pop(dataset, head) if full else head
            if full:
                self._replicas.apply_staged(dataset, changes, version)
            else:
                self._replicas.apply(dataset, changes, head)
            if version != before:
                self._changed()
            if version < head:
                self.pull(dataset)    # what changed while the copy was under way


def rows_of(dataset: str, changes: list) -> list[Row]:
    """Changes as rows to keep, once every value is a deletion (None) or a valid row of
    `dataset`."""
    for _, value in changes:
        if value is not None:
            check_row(dataset, value)
    return [(key, None if value is None else _json.encode(value)) for key, value in changes]
