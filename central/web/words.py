"""Short names for the stable codes the staff pages show: door decisions, alarms, measures, door
actions and staff roles (the pages keep the code beside the name; CSV exports the code alone)."""

from central.access_counts import EXIT_BUTTON
from edge_common.catalogues import N_
from edge_common.protocol.refusals import Door

_DOOR = {   # a door's verdict (refusals.Door), as the access log and the lock's status keep it
    Door.GRANTED: N_("Let in"),
    Door.CARD_UNKNOWN: N_("Unknown card"),
    Door.PATRON_BLOCKED: N_("Patron blocked"),
    Door.MEMBERSHIP_EXPIRED: N_("Membership expired"),
    Door.UNDERAGE: N_("Under the age limit"),
    Door.CLOSED_NOW: N_("Closed at this time"),
    Door.CATEGORY_NOT_ALLOWED: N_("Category not let in"),
    Door.DEBT_OVER_LIMIT: N_("Fees over the limit"),
    Door.NO_AGREEMENT: N_("Agreement not signed"),
    Door.RATE_LIMITED: N_("Too many entries"),
    Door.PASSBACK: N_("Already inside"),
    Door.LIST_STALE: N_("Card list out of date"),
    Door.LOCKDOWN: N_("Lockdown"),
    EXIT_BUTTON: N_("Exit button"),
}
# What locks logged before the one vocabulary of refusal codes, as its code now.
_RENAMED = {"blocked": Door.PATRON_BLOCKED, "expired": Door.MEMBERSHIP_EXPIRED,
            "unknown_card": Door.CARD_UNKNOWN}

NAMES: dict[str, dict[str, str]] = {
    "decision": {**_DOOR, **{old: _DOOR[new] for old, new in _RENAMED.items()}},
    "alarm": {   # per door (edge_common/doorstate.py, lockd's tamper and readers), any device's
        "door_forced": N_("Door forced open"),
        "door_held_open": N_("Door held open"),
        "emergency_release": N_("Emergency release (fire alarm)"),
        "relay_fault": N_("Lock relay fault"),
        "tamper": N_("Tamper switch"),
        "reader_lost": N_("Card reader not answering"),
        "outbox_over_capacity": N_("Outbox over capacity"),   # edge_common.status
        # a return box's, per part (belt, a bin, its item reader, e-stop, link)
        "jam": N_("Item stuck on the belt"),
        "bin_full": N_("Bin full"),
        "e_stop": N_("Emergency stop pressed"),
        "offline_too_long": N_("Offline for too long"),
        "printer_fault": N_("Receipt printer fault"),
    },
    "measure": {   # access_stats.compare's rows, named as the summary table names them
        "entries": N_("Entries"),
        "visits": N_("Visits"),
        "denials": N_("Denied"),
        "exits": N_("Exits"),
        "average_stay_minutes": N_("Average stay (minutes)"),
    },
    "action": {   # what the Now page did (?done=) and the door command it asks to confirm
        "open": N_("Open once"),
        "lockdown": N_("Lock down"),
        "release": N_("Release"),
        "sweep": N_("Sweep room"),
        "alarm.acknowledge": N_("Alarm acknowledged"),
        "alarm.clear": N_("Asked the device to clear the alarm"),   # a lock or a return box
    },
    "role": {   # central.circulation.branches.ROLES, beside the signed-in name
        "clerk": N_("Clerk"),
        "cashier": N_("Cashier"),
        "supervisor": N_("Supervisor"),
        "facilities": N_("Facilities"),
        "admin": N_("Administrator"),
    },
}


def name(kind: str, code: str) -> str | None:
    """The English name of a code of that kind (`decision`, `alarm`, …), None if it has none."""
    return NAMES[kind].get(code)
