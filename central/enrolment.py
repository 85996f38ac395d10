"""Enrolment: a one-time token becomes a device's broker account (created live at the broker),
its keys, its config and the CA it must trust; a refused token changes nothing."""

import secrets
from datetime import datetime, timedelta
from typing import Any

from central import device_config, fleet, invitations
from central.circulation import sites
from central.circulation.store import Store
from central.database import Database
from provisioning.broker import Account, create_commands, remove_commands
from provisioning.ca import expires, fingerprint
from provisioning.dynsec import Dynsec
from provisioning.grant import BrokerGrant, Grant, Ticket
from provisioning.settings import ProvisionConfig


def invite(db: Database, cfg: ProvisionConfig, dev: str, site: str, kind: str,
           config: dict[str, Any] | None = None, ttl: timedelta = invitations.DEFAULT_TTL,
           ) -> tuple[Ticket, invitations.Invitation]:
    """Invite a device (keeping its config at central when given): the ticket it enrols with,
    naming this central's endpoint and pinning its CA, and the invitation."""
    ca_sha256 = fingerprint(cfg.ca().check().ca_cert.read_bytes())
    if config is not None:
        device_config.store(db, dev, {k: v for k, v in config.items()
                                      if k not in device_config.LOCAL})
    token, inv = invitations.invite(db, dev, site, kind, ttl)
    return Ticket(cfg.enrolment.url, token, ca_sha256), inv


def enrol(db: Database, token: str, dynsec: Dynsec, *, ca_pem: str,
          device_host: str, device_port: int, now: datetime | None = None) -> Grant:
    """Redeem `token` and give its device a fresh broker password (an earlier account of that
    device is replaced, which disconnects it). Raises TokenRefused or BrokerRefused; either
    way the token stays as it was."""
    with Store(db).atomic():
        inv = invitations.redeem(db, token, now)
        command_key = fleet.enrol(db, inv.dev, inv.site, inv.kind)
        db.execute("UPDATE devices SET ca_expires = ? WHERE id = ?",
                   [expires(ca_pem.encode()).isoformat(), inv.dev])
        card_key = sites.open_site(db, inv.site)
        version, config = device_config.latest(db, inv.dev)
        account = Account(inv.dev, secrets.token_urlsafe(24), site=inv.site)
        dynsec.run(remove_commands(account) + create_commands(account))
    return Grant(dev=inv.dev, site=inv.site, kind=inv.kind, card_key=card_key,
                 command_key=command_key, ca_pem=ca_pem, config_version=version, config=config,
                 broker=BrokerGrant(host=device_host, port=device_port, username=inv.dev,
                                    password=account.password))
