"""Live account changes through mosquitto's dynamic-security plugin (`$CONTROL/…/v1`): add a
device, disable it (the broker disconnects it at once), all without a broker restart."""

import json
import ssl
import threading
import time
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from edge_common.errors import EdgeError

CONTROL = "$CONTROL/dynamic-security/v1"
ADMIN = "broker-admin"
_UNDO = frozenset({"deleteClient", "deleteRole"})  # "not found" is what they aim for


class BrokerRefused(EdgeError, RuntimeError):
    """The broker refused the admin account or an account change, or did not answer."""

    code = "broker_refused"


@dataclass(frozen=True)
class Dynsec:
    """The plugin's admin client for one broker (plain on loopback, or TLS with `ca_file`)."""

    port: int
    password: str
    host: str = "127.0.0.1"
    ca_file: str = ""
    timeout: float = 10.0

    def run(self, commands: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Send plugin commands as the admin and wait for every answer; raise BrokerRefused on
        an error, except a delete of something already gone."""
        if not commands:
            return []
        payload = json.dumps({"commands": commands})
        replies: list[dict[str, Any]] = []
        refused: list[str] = []
        done = threading.Event()

        def connected(client: mqtt.Client, userdata: Any, flags: mqtt.ConnectFlags,
                      reason_code: ReasonCode, properties: Properties | None) -> None:
            if reason_code.is_failure:
                refused.append(str(reason_code))
            else:
                client.subscribe(f"{CONTROL}/response", qos=1)

        def message(client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
            replies.extend(json.loads(msg.payload).get("responses", []))
            if len(replies) >= len(commands):
                done.set()

        c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=ADMIN, protocol=mqtt.MQTTv5)
        c.username_pw_set(ADMIN, self.password)
        if self.ca_file:
            c.tls_set(ca_certs=self.ca_file, tls_version=ssl.PROTOCOL_TLS_CLIENT)
        c.on_connect = connected
        c.on_subscribe = lambda client, *_: client.publish(CONTROL, payload, qos=1)
        c.on_message = message
        try:
            c.connect(self.host, self.port)
        except OSError as exc:
            raise BrokerRefused(f"broker {self.host}:{self.port} unreachable: {exc}",
                                code="broker_unreachable") from exc
        deadline = time.monotonic() + self.timeout
        try:
            while not done.is_set() and not refused:
                if time.monotonic() > deadline:
                    raise BrokerRefused(f"broker did not answer {len(commands)} commands",
                                        code="broker_unreachable")
                c.loop(timeout=0.1)
        finally:
            c.disconnect()
        if refused:
            raise BrokerRefused(f"broker refused its admin account: {refused[0]}")
        errors = [r for r in replies if r.get("error") and r.get("command") not in _UNDO]
        if errors:
            raise BrokerRefused(f"broker refused account changes: {errors}")
        return replies

    def disable(self, username: str) -> None:
        """Refuse a client from now on and disconnect it if connected."""
        self.run([{"command": "disableClient", "username": username}])
