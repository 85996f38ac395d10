"""What the return box's screens list, in words: the visit's items and the staff facts (pure)."""

from returnbox.i18n import Translator
from returnbox.receipt import remarks, where
from returnbox.views import ReturnedItem, StaffView

ROUTE_ICONS = {"hold_shelf": "bookmark-check", "transit": "truck-delivery", "reshelve": "library",
               "sort_later": "inbox", "reject": "block-helper"}
REMARKS = {"attachments"}  # item warnings a patron is told about (others are for staff)


def item_rows(t: Translator, items: tuple[ReturnedItem, ...]) -> list[dict]:
    """One list row per item of the visit, newest last: where it went and what else to know."""
    rows = []
    for n, item in enumerate(items):
        if item.route == "reject":
            said = [t.label("route_reject"), t.notice(item.refusal or "")]
        else:
            said = [where(t, item), *remarks(t, item)]
        said += [t.notice(w) for w in item.warnings if w in REMARKS]
        level = "bad" if item.route == "reject" else "warn" if item.queued or any(
            w in REMARKS for w in item.warnings) else "ok"
        rows.append({"id": f"{n}:{item.barcode}", "title": item.title or item.barcode,
                     "detail": " · ".join(said), "level": level,
                     "icon": ROUTE_ICONS.get(item.route, "")})
    return rows


def staff_facts(t: Translator, staff: StaffView) -> list[dict]:
    """The maintenance view's facts beside the bins, each with a level (ok, warning, bad): the
    link, the outbox, a stuck item, the alarms and the sensors."""
    facts = [{"text": t.label("link_up" if staff.online else "link_down"),
              "level": "ok" if staff.online else "bad"},
             {"text": t.label("outbox", count=staff.outbox),
              "level": "ok" if staff.outbox == 0 else "warning"}]
    if staff.jammed:
        facts.append({"text": t.label("stuck_item", barcode=staff.jammed), "level": "bad"})
    facts.append({"text": f"{t.label('alarms')}: {', '.join(map(t.alarm, staff.alarms))}",
                  "level": "bad"} if staff.alarms else {"text": t.label("no_alarms"),
                                                        "level": "ok"})
    if staff.sensors:
        said = ", ".join(t.label("sensor_on" if on else "sensor_off", name=name)
                         for name, on in staff.sensors)
        facts.append({"text": f"{t.label('sensors')}: {said}", "level": "ok"})
    return facts


def bin_rows(t: Translator, staff: StaffView) -> list[dict]:
    """One entry per bin: its name, how full, and the barcodes in it (newest first)."""
    return [{"bin": b.name,
             "count": t.label("bin_count", count=b.count, capacity=b.capacity)
             + (f" · {t.label('bin_full')}" if b.full else ""),
             "barcodes": ", ".join(b.items), "full": b.full} for b in staff.bins]
