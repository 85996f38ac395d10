"""Central's service accounts on the broker's loopback listener, kept apart from the devices'.

With a TLS listener for devices, mosquitto runs with `per_listener_settings true`: the TLS
listener authenticates with the dynamic-security plugin (devices and the plugin's admin), the
loopback listener with a password file and an ACL file holding central's workers and tools
alone. So a device's password opens nothing on the loopback listener, and a service's nothing
on the TLS one. mosquitto rereads both files on SIGHUP.
"""

import time
from collections.abc import Iterable
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from edge_common import topics
from edge_common.files import write_private

CLIENT_ID = "use_username_as_clientid true\n"  # per listener: before any, it makes one on 1883
PASSWORDS = "services.passwd"
ACL = "services.acl"


def password_line(username: str, hashed: dict[str, object]) -> str:
    """One mosquitto password-file line (`$7$`: PBKDF2-SHA512, as the plugin hashes)."""
    return f"{username}:$7${hashed['iterations']}${hashed['salt']}${hashed['password']}\n"


def acl_text() -> str:
    """The loopback listener's ACL: every account there is a service, with all of `lib/v1`."""
    return ("# every account on this listener is one of central's services\n"
            f"pattern readwrite {topics.ROOT}/#\n")


def write(root: Path, lines: Iterable[str]) -> tuple[Path, Path]:
    """Write the password file (0600) and the ACL file under `root`; return their paths."""
    passwords = write_private(root / PASSWORDS, "".join(lines))
    acl = root / ACL
    acl.write_text(acl_text())
    return passwords, acl


def listener(port: int, passwords: Path, acl: Path) -> str:
    """The loopback listener's config block, with its own password and ACL files."""
    return (f"listener {port} 127.0.0.1\n{CLIENT_ID}allow_anonymous false\n"
            f"password_file {passwords}\nacl_file {acl}\n")


def connack(port: int, username: str, password: str, timeout: float = 5.0) -> int | None:
    """The CONNACK reason code `username` gets on 127.0.0.1:`port` (None: no answer)."""
    codes: list[int] = []

    def connected(client: mqtt.Client, userdata: object, flags: mqtt.ConnectFlags,
                  reason_code: ReasonCode, properties: Properties | None) -> None:
        codes.append(reason_code.value)

    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=username, protocol=mqtt.MQTTv5)
    c.username_pw_set(username, password)
    c.on_connect = connected
    try:
        c.connect("127.0.0.1", port)
    except OSError:
        return None
    deadline = time.monotonic() + timeout
    try:
        while not codes and time.monotonic() < deadline and c.loop(timeout=0.05) == 0:
            pass
    finally:
        c.disconnect()
    return codes[0] if codes else None
