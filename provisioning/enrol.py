"""A device's side of enrolment: check central's CA against the pinned fingerprint, redeem the
one-time token over HTTPS, and write what central gave (config, password, CA) with mode 0600."""

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
import requests
import tomli_w
import urllib3

from edge_common import ids
from edge_common.errors import EdgeError
from edge_common.files import write_private
from provisioning.ca import CaError, pinned
from provisioning.grant import EnrolRequest, Grant, Refusal, Ticket

TIMEOUT = 30.0   # seconds a silent central is waited for, at each step


class EnrolError(EdgeError, RuntimeError):
    """Enrolment failed: central refused the token (its code), could not be reached
    (`central_unreachable`), or is not the central we were told to trust (`ca_mismatch`)."""

    code = "enrol_failed"


@dataclass(frozen=True)
class Enrolled:
    """What enrolment wrote: the device's config file and who it is."""

    config: Path
    dev: str
    kind: str


def _call(method: str, url: str, **kw: Any) -> requests.Response:
    try:
        return requests.request(method, url, timeout=TIMEOUT, **kw)
    except requests.RequestException as exc:
        raise EnrolError(f"{url}: {exc}", code="central_unreachable") from exc


def trusted_ca(central: str, ca_sha256: str) -> bytes:
    """Central's CA certificate, fetched without trust and accepted only if it is exactly the
    one certificate pinned in the invitation: nothing beside it is ever trusted."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", urllib3.exceptions.InsecureRequestWarning)
        pem = _call("GET", f"{central}/v1/ca.pem", verify=False).content
    try:
        return pinned(pem, ca_sha256)
    except CaError as exc:
        raise EnrolError(f"{central} presents another CA than the pinned one: {exc}",
                         code="ca_mismatch") from exc


def device_config(grant: Grant, out: Path, data_dir: Path) -> dict[str, Any]:
    """The device's whole config file: identity and keys, broker over TLS, and its config."""
    return {
        **grant.config,
        "device": {"id": grant.dev, "site": grant.site, "kind": grant.kind,
                   "data_dir": str(data_dir), "card_key": grant.card_key,
                   "command_key": grant.command_key, "config_version": grant.config_version},
        "mqtt": {"host": grant.broker.host, "port": grant.broker.port,
                 "username": grant.broker.username,
                 "password_file": str(out / "mqtt-password"), "tls": True,
                 "ca_file": str(out / "ca.pem")},
    }


def enrol(ticket: Ticket, out: Path, data_dir: Path | None = None) -> Enrolled:
    """Enrol this device at the ticket's central and write its files under `out`."""
    central = ticket.central.rstrip("/")
    if not central.startswith("https://"):  # the token never travels in the clear
        raise EnrolError(f"{central}: enrolment needs https://", code="central_invalid")
    ca = write_private(out / "ca.pem", trusted_ca(central, ticket.ca_sha256))
    answer = _call("POST", f"{central}/v1/enrol", verify=str(ca),
                   data=msgspec.json.encode(EnrolRequest(ticket.token)),
                   headers={"Content-Type": "application/json"})
    if answer.status_code != 200:
        try:
            refusal = msgspec.json.decode(answer.content, type=Refusal)
        except msgspec.DecodeError:
            refusal = Refusal("enrol_failed", f"HTTP {answer.status_code}")
        raise EnrolError(refusal.error, code=refusal.code)
    try:
        grant = msgspec.json.decode(answer.content, type=Grant)
        ids.kind(grant.kind)
    except (msgspec.DecodeError, ids.IdRefused) as exc:
        raise EnrolError(f"central's answer: {exc}", code="answer_invalid") from exc
    write_private(out / "mqtt-password", grant.broker.password + "\n")
    config = device_config(grant, out, data_dir or out / "data")
    path = write_private(out / f"{grant.kind}.toml", tomli_w.dumps(config))
    return Enrolled(path, grant.dev, grant.kind)
