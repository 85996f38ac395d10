"""Provisioning end to end with real parts: central's CA, mosquitto with a TLS device listener
and live dynamic security, the HTTPS enrolment endpoint, and lockd joining by enrolment."""

import json
import os
import socket
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from cryptography import x509

from central import invitations
from central.invitations import TokenRefused
from edge_common import topics
from provisioning import ca, services
from provisioning.ca import expires
from provisioning.enrol import EnrolError, enrol
from provisioning.grant import Ticket
from tests.fleet import SITE, TlsProbe
from tests.harness import wait_for
from tests.mitm import Mitm

NOT_AUTHORIZED = 0x87


def password(enrolled) -> str:
    """The broker password enrolment wrote for the device."""
    return (enrolled.config.parent / "mqtt-password").read_text().strip()


def test_a_device_enrols_over_https_gets_0600_files_and_works_over_tls(fleet):
    """The token buys the device its config, keys, CA and broker account, each file 0600; lockd
    started from that config talks TLS to the broker and syncs its allow-list from central."""
    fleet.start_central()
    enrolled = fleet.enrol("lock-7")
    files = sorted(p.name for p in enrolled.config.parent.iterdir())
    assert files == ["ca.pem", "lockd.toml", "mqtt-password"]
    for name in files:
        assert stat.S_IMODE(os.stat(enrolled.config.parent / name).st_mode) == 0o600
    lock = fleet.lock(enrolled)
    assert lock.cfg.mqtt.tls and lock.cfg.mqtt.port == fleet.broker.tls_port
    wait_for(lambda: lock.runtime.synced_at("allowlist"), what="allow-list synced over TLS")
    wait_for(lambda: fleet.db.execute("SELECT online FROM device_status WHERE dev = 'lock-7'")
             .fetchone() == (1,), what="central sees lock-7 online")

    listed = json.loads(fleet.admin("device", "list", "--json"))
    assert [(d["id"], d["kind"], d["site"], d["state"], d["config_version"],
             d["config_latest"]) for d in listed] == [("lock-7", "lockd", SITE, "online", 1, 1)]
    assert listed[0]["since"] and listed[0]["status"]["outbox"] >= 0
    ca_until = expires((enrolled.config.parent / "ca.pem").read_bytes())
    assert listed[0]["ca_expires"] == ca_until.isoformat()  # the CA the device trusts
    assert f"CA until {ca_until.date()}" in fleet.admin("device", "list")
    assert "wc" in listed[0]["status"]["doors"]
    shown = json.loads(fleet.admin("device", "show", "lock-7"))
    assert shown["id"] == "lock-7" and shown["status"]["version"]
    assert "lock-7" in fleet.admin("device", "list") and "config=v1" in fleet.admin(
        "device", "list")
    assert "[device_unknown]" in fleet.admin("device", "show", "lock-9", ok=False)


def test_a_token_works_once_before_its_expiry_and_only_as_issued(fleet):
    """Reuse, expiry and a forged secret are each refused with their code, and a refused token
    creates no broker account; a device pinned to another CA does not send its token."""
    ticket = fleet.stack.invite(fleet.db, "lock-1", SITE, "lockd")
    enrol(ticket, fleet.root / "first")
    with pytest.raises(EnrolError) as used:
        enrol(ticket, fleet.root / "again")
    assert used.value.code == "token_used"

    ident, _, secret = fleet.stack.invite(fleet.db, "lock-2", SITE, "lockd").token.partition(".")
    forged = Ticket(ticket.central, f"{ident}.{secret[:-1]}{'A' if secret[-1] != 'A' else 'B'}",
                    ticket.ca_sha256)
    with pytest.raises(EnrolError) as bad:
        enrol(forged, fleet.root / "forged")
    assert bad.value.code == "token_invalid"

    token, _ = invitations.invite(fleet.db, "lock-3", SITE, "lockd",
                                  now=datetime.now(UTC) - timedelta(days=2))
    with pytest.raises(EnrolError) as late:
        enrol(Ticket(ticket.central, token, ticket.ca_sha256), fleet.root / "late")
    assert late.value.code == "token_expired"

    with pytest.raises(EnrolError) as pinned:
        enrol(Ticket(ticket.central, token, "0" * 64), fleet.root / "mitm")
    assert pinned.value.code == "ca_mismatch"
    assert not (fleet.root / "mitm" / "mqtt-password").exists()

    accounts = set(fleet.broker.dynsec().run([{"command": "listClients"}])[0]["data"]["clients"])
    assert {"lock-1"} <= accounts and not {"lock-2", "lock-3"} & accounts


def test_a_device_trusts_only_the_pinned_ca_and_sends_no_token_to_a_man_in_the_middle(fleet):
    """A man in the middle serving central's real CA with its own behind it (same name or
    another), its own alone, or its own first gets `ca_mismatch` and never the token; one
    serving the real CA alone cannot pass the TLS check. The token still enrols afterwards."""
    ticket = fleet.stack.invite(fleet.db, "lock-1", SITE, "lockd")
    real = fleet.stack.ca.ca_cert.read_bytes()
    cases = [("libedge central CA", lambda own: real + own, "ca_mismatch"),
             ("Library network root", lambda own: real + own, "ca_mismatch"),
             ("Library network root", lambda own: own + real, "ca_mismatch"),
             ("libedge central CA", lambda own: own, "ca_mismatch"),
             ("libedge central CA", lambda own: real, "central_unreachable")]
    for n, (name, bundle, code) in enumerate(cases):
        mitm = Mitm(fleet.root / f"mitm-{n}", ticket.central, fleet.stack.ca.ca_cert, name,
                    bundle)
        try:
            with pytest.raises(EnrolError) as refused:
                enrol(Ticket(mitm.url, ticket.token, ticket.ca_sha256), fleet.root / f"dev-{n}")
        finally:
            mitm.close()
        assert (refused.value.code, mitm.tokens) == (code, []), name
        assert not (fleet.root / f"dev-{n}" / "mqtt-password").exists()
    done = enrol(ticket, fleet.root / "real")
    assert done.dev == "lock-1"
    written = x509.load_pem_x509_certificates((fleet.root / "real" / "ca.pem").read_bytes())
    assert [c.subject for c in written] == [x509.load_pem_x509_certificate(real).subject]


def test_a_ticket_naming_plain_http_is_refused_before_anything_is_sent(fleet):
    """An invitation whose central is `http://` is refused (`central_invalid`): the token is
    never sent in the clear, and it still enrols over HTTPS."""
    ticket = fleet.stack.invite(fleet.db, "lock-1", SITE, "lockd")
    for url in (ticket.central.replace("https://", "http://"), "HTTP://127.0.0.1:1",
                "ftp://127.0.0.1", "127.0.0.1:8443"):
        with pytest.raises(EnrolError) as refused:
            enrol(Ticket(url, ticket.token, ticket.ca_sha256), fleet.root / "plain")
        assert refused.value.code == "central_invalid", url
    assert not fleet.db.execute("SELECT used_at FROM invitations").fetchone()[0]
    assert enrol(ticket, fleet.root / "real").dev == "lock-1"


def test_the_ca_and_the_certificates_it_issues_carry_key_identifiers(tmp_path):
    """The CA names its key (subject key identifier) and the server certificate names the CA's
    key as its issuer's (authority key identifier), so no same-named CA can pass as its
    issuer."""
    files = ca.init(tmp_path / "ca", ["127.0.0.1"])
    root = x509.load_pem_x509_certificate(files.ca_cert.read_bytes())
    server = x509.load_pem_x509_certificate(files.server_cert.read_bytes())
    ski = root.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    aki = server.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    assert root.extensions.get_extension_for_class(
        x509.AuthorityKeyIdentifier).value.key_identifier == ski.digest
    assert aki.key_identifier == ski.digest
    assert server.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest \
        == x509.SubjectKeyIdentifier.from_public_key(server.public_key()).digest


def test_redeem_refuses_malformed_tokens_with_token_invalid(fleet):
    """A token without its secret, an empty one or an unknown id never reaches the hash check."""
    for token in ("", "abc", "abc.", ".secret", "nope.nope"):
        with pytest.raises(TokenRefused) as exc:
            invitations.redeem(fleet.db, token)
        assert exc.value.code == "token_invalid"


def test_revoked_device_is_disconnected_at_once_and_refused_on_reconnect(fleet):
    """Disabling the account at the broker closes the device's connection (no restart) and the
    broker refuses the same credentials from then on; its neighbour stays connected."""
    seven, eight = fleet.enrol("lock-7"), fleet.enrol("lock-8")
    probe, neighbour = TlsProbe(fleet, "lock-7", password(seven)), \
        TlsProbe(fleet, "lock-8", password(eight))
    try:
        assert probe.connack == 0 and neighbour.connack == 0
        fleet.stack.config.dynsec().disable("lock-7")
        wait_for(probe.closed.is_set, what="lock-7 disconnected by the broker")
        again = TlsProbe(fleet, "lock-7", password(seven))
        assert again.connack == NOT_AUTHORIZED or again.closed.is_set()
        again.close()
        assert not neighbour.closed.is_set()
        assert neighbour.publish(topics.device("lock-8", "evt")) < 0x80  # 16: no subscribers
    finally:
        probe.close()
        neighbour.close()


def test_a_device_cannot_use_another_devices_topics(fleet):
    """lock-8's credentials over TLS may neither read nor write lock-7's topics."""
    fleet.enrol("lock-7")
    eight = fleet.enrol("lock-8")
    probe = TlsProbe(fleet, "lock-8", password(eight))
    try:
        for channel in ("cmd", "ack", "res"):
            assert probe.subscribe(topics.device("lock-7", channel)) == NOT_AUTHORIZED
        assert probe.subscribe("lib/v1/dev/lock-7/#") == NOT_AUTHORIZED
        for channel in ("evt", "req", "status"):
            assert probe.publish(topics.device("lock-7", channel)) == NOT_AUTHORIZED
    finally:
        probe.close()


def test_only_centrals_services_log_in_on_the_loopback_listener(fleet):
    """A device's password opens nothing on central's plain loopback listener, nor the
    plugin's admin's; central's own account works there and nowhere else; the device's
    works on the TLS listener."""
    fleet.start_central()
    deployed = Path(__file__).parent.parent / "deploy" / "mosquitto-libedge-services.acl"
    assert deployed.read_text() == services.acl_text()  # production's file says the same
    seven = fleet.enrol("lock-7")
    assert services.connack(fleet.broker.port, "lock-7", password(seven)) == NOT_AUTHORIZED
    assert services.connack(fleet.broker.port, "broker-admin",
                            fleet.broker.admin_password) == NOT_AUTHORIZED
    device, central = TlsProbe(fleet, "lock-7", password(seven)), \
        TlsProbe(fleet, "central-1", "central-1-pw")
    try:
        assert (device.connack, central.connack) == (0, NOT_AUTHORIZED)
        assert fleet.central.link.connected
        # PUBACK 0, not 16 (no subscribers): central, on the loopback listener, takes it
        assert device.publish(topics.device("lock-7", "evt")) == 0
    finally:
        device.close()
        central.close()


def test_the_broker_restarted_keeps_every_account_made_live(fleet):
    """Accounts created and disabled through the plugin survive a broker restart: the enrolled
    device connects again, the revoked one stays out."""
    kept, gone = fleet.enrol("lock-7"), fleet.enrol("lock-8")
    fleet.stack.config.dynsec().disable("lock-8")
    fleet.broker.stop()
    fleet.broker.start(keep_accounts=True)
    ok, refused = TlsProbe(fleet, "lock-7", password(kept)), \
        TlsProbe(fleet, "lock-8", password(gone))
    try:
        assert ok.connack == 0
        assert refused.connack == NOT_AUTHORIZED or refused.closed.is_set()
    finally:
        ok.close()
        refused.close()


def test_the_endpoint_survives_silent_plain_and_malformed_clients(fleet):
    """A client that connects and says nothing, one speaking plain HTTP and malformed
    requests get nowhere (codes, never a traceback) and never stop enrolments."""
    port = fleet.stack.server.port
    silent = socket.create_connection(("127.0.0.1", port))
    plain = socket.create_connection(("127.0.0.1", port))
    plain.sendall(b"POST /v1/enrol HTTP/1.1\r\nHost: x\r\n\r\n")
    url, ca = fleet.stack.config.enrolment.url, str(fleet.stack.ca.ca_cert)
    for body, headers, code in ((b"not json", {}, "request_invalid"),
                                (b'{"token": 5}', {}, "request_invalid"),
                                (b"{}", {"Content-Length": "x"}, "request_invalid")):
        answer = requests.post(f"{url}/v1/enrol", data=body, headers=headers, verify=ca,
                               timeout=10)
        assert answer.status_code == 400 and answer.json()["code"] == code
    assert requests.get(f"{url}/nope", verify=ca, timeout=10).json()["code"] == "not_found"
    ticket = fleet.stack.invite(fleet.db, "lock-1", SITE, "lockd")
    assert enrol(ticket, fleet.root / "lock-1").dev == "lock-1"
    silent.close()
    plain.close()
