"""What staff see of the fleet: each device's identity, state, versions and last report, as
one record for the command line and (as JSON) for the web pages."""

import msgspec

from central.database import Database, among
from edge_common import envelope
from edge_common.protocol.backbone import DeviceStatus


class DeviceView(msgspec.Struct, frozen=True, kw_only=True):
    """One device: `state` is online, offline, revoked or never_seen; times are ISO UTC."""

    id: str
    kind: str
    site: str
    state: str
    enrolled_at: str
    revoked_at: str | None = None
    since: str | None = None  # when it last came online or went offline
    last_seen: str | None = None  # its last status report
    config_version: int = 0  # in force on the device, as it reported
    config_latest: int = 0  # the newest version central keeps
    ca_expires: str | None = None  # the CA certificate it enrolled with (None: not enrolled so)
    status: DeviceStatus | None = None  # the last report itself: version, outbox, alarms, …


_QUERY = (
    "SELECT d.id, d.kind, d.site, d.enrolled_at, d.revoked_at, s.online, s.body, s.since,"
    " s.updated_at, (SELECT max(version) FROM device_configs c WHERE c.dev = d.id),"
    " d.ca_expires"
    " FROM devices d LEFT JOIN device_status s ON s.dev = d.id")


def devices(db: Database, dev: str | None = None,
            sites: list[str] | None = None) -> list[DeviceView]:
    """Every enrolled device (or just `dev`, or those of `sites`), by id."""
    rows = db.execute(
        _QUERY + " WHERE (? IS NULL OR d.id = ?)"
        f" AND {among('d.site', sites)} ORDER BY d.id", [dev, dev, *(sites or ())]).fetchall()
    return [_view(*row) for row in rows]


def _view(dev: str, kind: str, site: str, enrolled: str, revoked: str | None,
          online: int | None, body: bytes | None, since: str | None, seen: str | None,
          latest: int | None, ca_expires: str | None) -> DeviceView:
    status = msgspec.convert(envelope.decode(body).body, DeviceStatus) if body else None
    state = ("revoked" if revoked else "never_seen" if status is None
             else "online" if online else "offline")
    return DeviceView(id=dev, kind=kind, site=site, state=state, enrolled_at=enrolled,
                      revoked_at=revoked, since=since, last_seen=seen,
                      config_version=status.config_version if status else 0,
                      config_latest=latest or 0, ca_expires=ca_expires, status=status)


def line(view: DeviceView) -> str:
    """One line of `libedge admin device list`."""
    head = f"{view.id:<16} {view.kind:<10} {view.site:<10} {view.state:<8}"
    ca = f" CA until {view.ca_expires[:10]}" if view.ca_expires else ""
    s = view.status
    if s is None:
        return f"{head} never seen{ca}"
    parts = [f"v{s.version}" if s.version else "", f"config=v{view.config_version}"
             + ("" if view.config_version == view.config_latest
                else f" (central v{view.config_latest})"),
             f"outbox={s.outbox}" + (f" (oldest {s.outbox_age:.0f}s)" if s.outbox else ""),
             f"dropped={s.dropped}"]
    if s.datasets:
        parts.append("lists=" + ",".join(f"{k}:v{v}" for k, v in sorted(s.datasets.items())))
    if s.alarms:
        parts.append("alarms=" + ",".join(s.alarms))
    if s.readers:
        parts.append("readers=" + ",".join(f"{k}:{v}" for k, v in sorted(s.readers.items())))
    for door, state in s.doors.items():
        parts.append(f"{door}:{state.result}{' (released)' if state.released else ''}")
    parts.append(f"since {(view.since or '')[:19]} seen {(view.last_seen or '')[:19]}")
    return f"{head} {' '.join(p for p in parts if p)}{ca}"
