"""Device ids, site ids and kinds from staff become topics, roles and broker accounts: every
boundary that takes one refuses a bad one with a stable code, and nothing reaches the broker.

The test is generated: each boundary below meets each bad value it takes."""

import re
from datetime import UTC, datetime, timedelta

from central import fleet as central_fleet
from central import invitations, site_keys
from edge_common import ids
from edge_common.errors import EdgeError
from provisioning.broker import Account, create_commands
from provisioning.enrol import enrol
from provisioning.grant import Ticket
from tests.fleet import SITE

# each bad value with the code it must get, from the rule (edge_common/ids.py)
OFF_PATTERN = ["+", "#", "lock/1", "lib/v1/dev/+", "$SYS", "$share", "<img src=x onerror=1>",
               "", "x" * 64, "Lock-1", "lock 1", "lock\n1", "-lock", "lock_1", "lůck"]
BAD_DEVICES = {**{v: "id_invalid" for v in OFF_PATTERN},
               "central-1": "id_reserved", "central-9": "id_reserved", "central": "id_reserved",
               "broker-admin": "id_reserved"}
BAD_SITES = {v: "id_invalid" for v in OFF_PATTERN}
BAD_KINDS = {"+": "id_invalid", "<img>": "id_invalid", "evil": "kind_unknown",
             "service": "kind_unknown"}


def _code(call) -> str:
    """The stable code `call` is refused with, or what else happened."""
    try:
        call()
    except EdgeError as exc:
        return exc.code
    except Exception as exc:  # noqa: BLE001 - any other outcome is a failure to report
        return type(exc).__name__
    return "accepted"


def _cli(fleet, *args: str) -> str:
    """The `[code]` `libedge admin ARGS` refused with (exit 1, no traceback)."""
    out = fleet.admin(*args, ok=False)
    assert "Traceback" not in out
    return re.findall(r"Error: .*?\[([a-z_]+)\]", out)[0]


def _endpoint(fleet, dev: str, site: str, kind: str) -> str:
    """An invitation kept before ids were checked, redeemed at the HTTPS endpoint."""
    secret = "s" * 32
    fleet.db.execute(
        "INSERT INTO invitations (id, dev, site, kind, secret_sha256, created_at, expires)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        [f"old{len(fleet.tokens)}", dev, site, kind, invitations._digest(secret),
         datetime.now(UTC).isoformat(), (datetime.now(UTC) + timedelta(hours=1)).isoformat()])
    fleet.db.conn.commit()
    token = f"old{len(fleet.tokens)}.{secret}"
    fleet.tokens.append(token)
    return _code(lambda: enrol(Ticket(fleet.stack.config.enrolment.url, token,
                                      fleet.ca_sha256), fleet.root / "dev"))


def _settings(fleet) -> str:
    return str(fleet.stack.settings)


# boundary name -> (which bad values it takes, how it is called)
DEVICE_BOUNDARIES = {
    "cli device invite": lambda f, v: _cli(f, "device", "invite", v, "--site", SITE, "--kind",
                                           "lockd", "--provision", _settings(f)),
    "cli device enrol": lambda f, v: _cli(f, "device", "enrol", v, "--site", SITE, "--kind",
                                          "lockd"),
    "cli device revoke": lambda f, v: _cli(f, "device", "revoke", v, "--provision",
                                           _settings(f)),
    "invitations.invite": lambda f, v: _code(lambda: invitations.invite(f.db, v, SITE, "lockd")),
    "fleet.enrol": lambda f, v: _code(lambda: central_fleet.enrol(f.db, v, SITE, "lockd")),
    "enrolment endpoint": lambda f, v: _endpoint(f, v, SITE, "lockd"),
    "broker account": lambda f, v: _code(lambda: f.broker.add(Account(v, "pw", site=SITE))),
    "broker commands": lambda f, v: _code(lambda: create_commands(Account(v, "pw", site=SITE))),
}
SITE_BOUNDARIES = {
    "cli device invite": lambda f, v: _cli(f, "device", "invite", "lock-1", "--site", v,
                                           "--kind", "lockd", "--provision", _settings(f)),
    "cli device enrol": lambda f, v: _cli(f, "device", "enrol", "lock-1", "--site", v,
                                          "--kind", "lockd"),
    "cli branch add": lambda f, v: _cli(f, "branch", "add", v, "Bad"),
    "cli site rotate-key": lambda f, v: _cli(f, "site", "rotate-key", v),
    "invitations.invite": lambda f, v: _code(lambda: invitations.invite(f.db, "lock-1", v,
                                                                        "lockd")),
    "fleet.enrol": lambda f, v: _code(lambda: central_fleet.enrol(f.db, "lock-1", v, "lockd")),
    "site key": lambda f, v: _code(lambda: central_fleet.add_site_key(f.db, v)),
    "site key rotation": lambda f, v: _code(lambda: site_keys.rotate(f.db, v)),
    "enrolment endpoint": lambda f, v: _endpoint(f, "lock-1", v, "lockd"),
    "broker account": lambda f, v: _code(lambda: f.broker.add(Account("lock-1", "pw", site=v))),
    "broker commands": lambda f, v: _code(lambda: create_commands(Account("lock-1", "pw",
                                                                          site=v))),
}
KIND_BOUNDARIES = {
    "invitations.invite": lambda f, v: _code(lambda: invitations.invite(f.db, "lock-1", SITE,
                                                                        v)),
    "fleet.enrol": lambda f, v: _code(lambda: central_fleet.enrol(f.db, "lock-1", SITE, v)),
    "enrolment endpoint": lambda f, v: _endpoint(f, "lock-1", SITE, v),
}


def _broker_state(fleet) -> tuple[set[str], set[str]]:
    """The broker's accounts and roles, as its plugin lists them."""
    replies = fleet.broker.dynsec().run([{"command": "listClients"}, {"command": "listRoles"}])
    return set(replies[0]["data"]["clients"]), set(replies[1]["data"]["roles"])


def test_every_boundary_refuses_every_bad_id_with_a_code_and_nothing_reaches_the_broker(fleet):
    """Each boundary that takes a device id, a site id or a kind refuses each bad one (MQTT
    wildcards, `/`, `$`, markup, a service account's name, too long, …) with its stable code;
    afterwards the broker has no new account or role, central keeps its own account, central
    has no device, invitation or site key made of them, and every old invitation is unused."""
    fleet.start_central()
    fleet.tokens = []
    fleet.ca_sha256 = fleet.stack.invite(fleet.db, "seed", SITE, "lockd").ca_sha256
    fleet.admin("device", "list")  # makes the staff and the branch the CLI needs
    before = _broker_state(fleet)
    got, want = {}, {}
    for table, bad in ((DEVICE_BOUNDARIES, BAD_DEVICES), (SITE_BOUNDARIES, BAD_SITES),
                       (KIND_BOUNDARIES, BAD_KINDS)):
        for boundary, call in table.items():
            for value, code in bad.items():
                if boundary.startswith("cli") and (not value or value[0] == "-" or "\n" in value):
                    continue  # not one shell argument; the same check as invitations.invite
                got[boundary, value] = call(fleet, value)
                want[boundary, value] = code
    assert got == want
    assert _broker_state(fleet) == before
    assert fleet.central.link.connected  # its account was never replaced
    assert fleet.db.execute("SELECT count(*) FROM devices").fetchone() == (0,)
    assert fleet.db.execute("SELECT count(*) FROM invitations WHERE used_at IS NOT NULL"
                            " OR dev != 'seed' AND id NOT LIKE 'old%'").fetchone() == (0,)
    assert [s for (s,) in fleet.db.execute("SELECT site FROM site_keys")] in ([], [SITE])


def test_a_good_id_passes_every_check():
    """Ids on the pattern pass: what the rule allows is still usable."""
    assert ids.placement("lock-7", "central-library", "lockd") == (
        "lock-7", "central-library", "lockd")
    assert ids.device("x" * 63) == "x" * 63 and ids.site("0") == "0"
    assert not ids.is_service("centrally-1") and ids.is_service("central-2")
