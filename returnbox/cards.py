"""What a card at the box means: staff (the maintenance view), or a patron whose visit it starts
and, where the chute flap needs a card, whether lockd's rules let the flap open (seed 000)."""

import time
from dataclasses import dataclass
from datetime import UTC, datetime

from edge_common.access import GRANTED, Policy, Situation, decide
from edge_common.protocol.datasets import ALLOWLIST
from edge_common.readers import CardRead, normalise_uid
from edge_common.runtime import DeviceRuntime


@dataclass(frozen=True)
class Tap:
    """A card judged: its hash, whether staff hold it, whether the allow-list knows it, and
    `granted` or why the flap stays shut."""

    hashed: str
    staff: bool
    known: bool
    verdict: str


def judge(runtime: DeviceRuntime, read: CardRead, flap_policy: Policy | None) -> Tap:
    """Judge a card from the replicated allow-list alone (`flap_policy` None: no flap to open,
    every card may start a visit)."""
    hashed, entry = runtime.listed(normalise_uid(read.uid) if read.kind == "uid" else read.uid)
    if entry is not None and entry.staff:
        return Tap(hashed, True, True, GRANTED)
    if flap_policy is None:
        return Tap(hashed, False, entry is not None, GRANTED)
    synced = runtime.synced_at(ALLOWLIST)
    verdict = decide(entry, flap_policy, Situation(
        today=datetime.now(UTC).date(), open_now=True,
        list_age=None if synced is None else time.time() - synced))
    return Tap(hashed, False, entry is not None, verdict)
