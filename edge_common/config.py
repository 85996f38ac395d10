"""Declared TOML configuration: checked against its schema at start, unknown keys refused."""

import re
import tomllib
from pathlib import Path
from typing import Annotated, TypeVar

import msgspec

from edge_common.envelope import DeviceId
from edge_common.errors import ConfigError

T = TypeVar("T")


# Subclasses say frozen=True again: msgspec inherits it, type checkers (PEP 681) do not.
class Schema(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, frozen=True):
    """Base of every config section: unknown keys are an error."""


class MqttConfig(Schema, frozen=True):
    """How to reach the broker."""

    host: str = "127.0.0.1"
    port: Annotated[int, msgspec.Meta(ge=1, le=65535)] = 1883
    username: str = ""
    password: str = ""
    password_file: str = ""
    tls: bool = False
    ca_file: str = ""
    keepalive: Annotated[int, msgspec.Meta(ge=5, le=3600)] = 30
    session_expiry: Annotated[int, msgspec.Meta(ge=60)] = 7 * 86400
    reconnect_min: Annotated[float, msgspec.Meta(gt=0)] = 0.5
    reconnect_max: Annotated[float, msgspec.Meta(gt=0)] = 30.0

    def secret(self) -> str:
        """The password, read from `password_file` when one is named."""
        if self.password_file:
            try:
                return Path(self.password_file).read_text().strip()
            except OSError as exc:
                raise ConfigError(f"password_file {self.password_file}: {exc.strerror}") from exc
        return self.password


class OutboxConfig(Schema, frozen=True):
    """Durable outbox limits and resend timing."""

    max_rows: Annotated[int, msgspec.Meta(ge=10)] = 200_000
    max_bytes: Annotated[int, msgspec.Meta(ge=10_000)] = 200_000_000
    ack_timeout: Annotated[float, msgspec.Meta(gt=0)] = 10.0
    max_backoff: Annotated[float, msgspec.Meta(gt=0)] = 300.0
    window: Annotated[int, msgspec.Meta(ge=1, le=65535)] = 2000
    replay_rate: Annotated[float, msgspec.Meta(gt=0)] = 20_000.0


class DeviceSection(Schema, frozen=True):
    """Who this device is and where it keeps its state."""

    id: DeviceId
    site: Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")]
    kind: str
    data_dir: str
    card_key: Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{64}$")]
    # central signs this device's commands with it (printed by `libedge admin device enrol`);
    # without it the device refuses every command
    command_key: Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{64}$")] | None = None
    status_interval: Annotated[float, msgspec.Meta(gt=0)] = 30.0
    request_timeout: Annotated[float, msgspec.Meta(gt=0)] = 5.0


def load(path: str | Path, schema: type[T]) -> T:
    """Read a TOML file into `schema`, or raise ConfigError naming the file and the key."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    try:
        return msgspec.convert(data, schema)
    except msgspec.ValidationError as exc:
        raise ConfigError(f"{path}: {_where(str(exc))}") from exc


def _where(message: str) -> str:
    """Rephrase msgspec's `... - at `$.a.b`` so that it names the TOML key."""
    text, sep, at = message.partition(" - at `$")
    section = at.rstrip("`").lstrip(".")
    unknown = re.fullmatch(r"Object contains unknown field `(.+)`", text)
    if unknown:
        return f"unknown key '{'.'.join(filter(None, [section, unknown.group(1)]))}'"
    return f"{text} (at key '{section}')" if section else text
