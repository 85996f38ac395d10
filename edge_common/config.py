"""Declared TOML configuration: checked against its schema at start, unknown keys refused."""

import re
import tomllib
from pathlib import Path
from typing import Annotated, Literal, TypeVar

import msgspec

from edge_common.envelope import DeviceId, SiteId
from edge_common.errors import ConfigError

T = TypeVar("T")

# A GPIO pin: a BCM number (0-27 on the 40-pin header) or a gpiozero name for one
# ("GPIO17", "BCM17", "17", or by header position "BOARD11", "J8:11").
BcmPin = Annotated[int, msgspec.Meta(ge=0, le=27)]
PinName = Annotated[str, msgspec.Meta(
    pattern=r"^(GPIO|BCM)?([0-9]|1[0-9]|2[0-7])$|^(BOARD|J8:)([1-9]|[1-3][0-9]|40)$")]
Pin = BcmPin | PinName
Seconds = Annotated[float, msgspec.Meta(gt=0, le=86_400)]  # a timeout or interval: finite
Port = Annotated[int, msgspec.Meta(ge=1, le=65535)]
Baudrate = Annotated[int, msgspec.Meta(ge=50, le=4_000_000)]


# Subclasses say frozen=True again: msgspec inherits it, type checkers (PEP 681) do not.
class Schema(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, frozen=True):
    """Base of every config section: unknown keys are an error."""


class GpioBase(Schema, frozen=True):
    """A device's `[gpio]`: the pin factory ("" lets gpiozero choose: lgpio on a Pi; "mock"
    simulates every pin); each device adds its own pins."""

    pin_factory: Literal["", "mock", "lgpio", "rpigpio", "pigpio", "native"] = ""


class MqttConfig(Schema, frozen=True):
    """How to reach the broker."""

    host: str = "127.0.0.1"
    port: Port = 1883
    username: str = ""
    password: str = ""
    password_file: str = ""
    tls: bool = False
    ca_file: str = ""
    keepalive: Annotated[int, msgspec.Meta(ge=5, le=3600)] = 30
    session_expiry: Annotated[int, msgspec.Meta(ge=60, le=0xFFFFFFFF)] = 7 * 86400  # MQTT: 4 bytes
    reconnect_min: Seconds = 0.5
    reconnect_max: Seconds = 30.0

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

    max_rows: Annotated[int, msgspec.Meta(ge=10, le=1_000_000_000)] = 200_000
    max_bytes: Annotated[int, msgspec.Meta(ge=10_000, le=2**50)] = 200_000_000
    ack_timeout: Seconds = 10.0
    max_backoff: Seconds = 300.0
    window: Annotated[int, msgspec.Meta(ge=1, le=65535)] = 2000
    replay_rate: Annotated[float, msgspec.Meta(gt=0, le=1_000_000)] = 20_000.0
    # zero deleted rows and empty the write-ahead log at each ack, so nothing acked stays in
    # the files (the signing pad's forms)
    secure_delete: bool = False


class DeviceSection(Schema, frozen=True):
    """Who this device is and where it keeps its state."""

    id: DeviceId
    site: SiteId
    kind: str
    data_dir: str
    card_key: Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{64}$")]
    # central signs this device's commands with it (printed by `libedge admin device enrol`);
    # without it the device refuses every command
    command_key: Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{64}$")] | None = None
    status_interval: Seconds = 30.0
    request_timeout: Seconds = 5.0
    # the version of central's config this file holds (enrolment writes it)
    config_version: Annotated[int, msgspec.Meta(ge=0)] = 0


def load(path: str | Path, schema: type[T]) -> T:
    """Read a TOML file into `schema`, or raise ConfigError naming the file and the key."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    except RecursionError as exc:
        raise ConfigError(f"{path}: not valid TOML: arrays or tables nested too deep") from exc
    try:
        return msgspec.convert(data, schema)
    except msgspec.ValidationError as exc:
        raise ConfigError(f"{path}: {describe(str(exc))}") from exc
    except RecursionError as exc:
        raise ConfigError(f"{path}: arrays or tables nested too deep") from exc


def describe(message: str) -> str:
    """Rephrase msgspec's `... - at `$.a.b`` so that it names the TOML key."""
    text, sep, at = message.partition(" - at `$")
    section = at.rstrip("`").lstrip(".")
    unknown = re.fullmatch(r"Object contains unknown field `(.+)`", text)
    if unknown:
        return f"unknown key '{'.'.join(filter(None, [section, unknown.group(1)]))}'"
    return f"{text} (at key '{section}')" if section else text
