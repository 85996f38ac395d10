"""The one pattern device ids, site ids and device kinds follow, checked wherever they enter:
each becomes an MQTT topic level, and a device id a broker account and role too."""

import re

from edge_common.errors import EdgeError

DEVICE_KINDS = ("lockd", "kiosk", "returnbox", "signpad", "locker")
ID_PATTERN = r"^[a-z0-9][a-z0-9-]{0,62}$"  # no wildcard, `/`, `$`, space or markup can match
SERVICE_NAMES = ("central", "broker")  # central's workers are central-…, the admin broker-admin
_ID = re.compile(ID_PATTERN)


class IdRefused(EdgeError, ValueError):
    """An id that may not name a device, site or kind: `id_invalid` (off the pattern),
    `id_reserved` (a service account's name) or `kind_unknown`."""

    code = "id_invalid"


def _checked(what: str, value: object) -> str:
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise IdRefused(f"{what} {value!r}: lower-case letters, digits and '-', 1 to 63, "
                        "starting with a letter or digit")
    return value


def is_service(name: str) -> bool:
    """Whether `name` is, or is shaped like, a service account's (central-…, broker-…)."""
    return any(name == s or name.startswith(f"{s}-") for s in SERVICE_NAMES)


def device(dev: object) -> str:
    """`dev` if it may name a device (and so its broker account), else IdRefused."""
    name = _checked("device id", dev)
    if is_service(name):
        raise IdRefused(f"device id {name!r} is a service account's name", code="id_reserved")
    return name


def site(value: object) -> str:
    """`value` if it may name a site (a branch, in topics), else IdRefused."""
    return _checked("site id", value)


def kind(value: object) -> str:
    """`value` if it is a declared device kind, else IdRefused (`kind_unknown`)."""
    name = _checked("kind", value)
    if name not in DEVICE_KINDS:
        raise IdRefused(f"kind {name!r}: one of {', '.join(DEVICE_KINDS)}", code="kind_unknown")
    return name


def placement(dev: object, site_id: object, kind_name: object) -> tuple[str, str, str]:
    """(dev, site, kind), each checked: what an invitation or an enrolment names."""
    return device(dev), site(site_id), kind(kind_name)
