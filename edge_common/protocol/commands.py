"""Commands central sends to devices, their arguments, and the result devices report back."""

import hashlib
import hmac
from datetime import UTC, datetime
from typing import Annotated, Any

import msgspec

from edge_common.envelope import DeviceId
from edge_common.protocol.fields import Code, Count, FreeForm, Id, Name
from edge_common.protocol.spec import Body, Nothing, event

Seconds = Annotated[float, msgspec.Meta(gt=0, le=60)]


class Command(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """`cmd` body: what to do, for which device, until when, with a nonce never accepted twice,
    and central's MAC over all of it with that device's own key (`sign`, `authentic`)."""

    dev: DeviceId
    name: Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_.]{0,39}$")]
    expires: Annotated[datetime, msgspec.Meta(tz=True)]
    nonce: Annotated[str, msgspec.Meta(min_length=16, max_length=64)]
    args: FreeForm = {}
    mac: Annotated[str, msgspec.Meta(max_length=64)] = ""


_canonical = msgspec.json.Encoder(order="sorted")


def _mac(key: bytes, cmd: Command) -> str:
    """HMAC-SHA256 of the command's fields but the MAC, in one canonical JSON form."""
    signed = [cmd.dev, cmd.name, cmd.expires.astimezone(UTC), cmd.nonce, cmd.args]
    return hmac.new(key, _canonical.encode(signed), hashlib.sha256).hexdigest()


# Arguments only the target device may read (hex of at most 32 bytes): the broker sees them
# masked with a pad only that device's command key makes.
SECRET_ARGS = {"card_key": "key"}


def _masked(key: bytes, cmd: Command) -> Command:
    """The command with its secret argument XORed with a pad (HMAC-SHA256 of its device,
    name and nonce under `key`): masks it for the wire, and unmasks a masked one."""
    name = SECRET_ARGS.get(cmd.name)
    value = cmd.args.get(name) if name else None
    if not isinstance(value, str) or len(value) > 64:
        return cmd
    try:
        secret = bytes.fromhex(value)
    except ValueError:
        return cmd
    pad = hmac.new(key, _canonical.encode(["secret", cmd.dev, cmd.name, cmd.nonce]),
                   hashlib.sha256).digest()
    masked = bytes(a ^ b for a, b in zip(secret, pad, strict=False)).hex()
    return msgspec.structs.replace(cmd, args={**cmd.args, name: masked})


def sign(key: bytes, cmd: Command) -> Command:
    """The command as it goes on the wire: its secret argument masked, then central's MAC
    over it, both made with the target device's command key."""
    wire = _masked(key, cmd)
    return msgspec.structs.replace(wire, mac=_mac(key, wire))


def authentic(key: bytes, cmd: Command) -> bool:
    """Whether the MAC was made with `key` over exactly these fields (constant time)."""
    return hmac.compare_digest(cmd.mac, _mac(key, cmd))


def unmasked(key: bytes, cmd: Command) -> Command:
    """An authentic command as central issued it: its secret argument read back."""
    return _masked(key, cmd)


class DoorArgs(Body):
    """Arguments of a door command: one door, or every door of the lock when absent."""

    door: Name | None = None


class OpenArgs(DoorArgs):
    """`open`: release the door for `seconds` (default: the door's unlock time)."""

    seconds: Seconds | None = None


class SwitchArgs(DoorArgs):
    """`lockdown` / `release`: switch the state on (default) or off."""

    active: bool = True


class ClearAlarmArgs(DoorArgs, kw_only=True):
    """`clear_alarm`: acknowledge an alarm latched at the door."""

    alarm: Code


class SweepArgs(Body):
    """`sweep`: report who may still be inside a room and start it afresh."""

    room: Name


class NoArgs(Body):
    """A command without arguments."""


class ConfigArgs(Body, kw_only=True):
    """`config`: the device's config as central keeps it (every section but `device` and
    `mqtt`, which stay the device's own), and its version there."""

    version: Annotated[int, msgspec.Meta(ge=1, le=2**53)]
    config: FreeForm


class CardKeyArgs(Body, kw_only=True):
    """`card_key`: the site's new card key; the device hashes with it first and with its
    previous key too, until central ends the overlap and the old hashes leave the lists."""

    key: Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{64}$")]


class FormShowArgs(Body, kw_only=True):
    """`form_show` (to a signing pad): fetch form `form` with `form.get` and show it; the
    revision tells a pad holding an older one that the desk changed it (or cancelled it)."""

    form: Id
    revision: Count


COMMANDS: dict[str, type[Body]] = {
    "open": OpenArgs, "lockdown": SwitchArgs, "release": SwitchArgs,
    "clear_alarm": ClearAlarmArgs, "sweep": SweepArgs, "resync": NoArgs, "config": ConfigArgs,
    "card_key": CardKeyArgs, "form_show": FormShowArgs,
}


def command_args(name: str, args: dict[str, Any], *, lenient: bool = False) -> Body:
    """A command's arguments as their Struct (`lenient`: from strings, as typed in a CLI).

    Raises KeyError for an unknown command and msgspec.ValidationError for bad arguments.
    """
    return msgspec.convert(args, COMMANDS[name], strict=not lenient)


class CommandResult(Body):
    """`cmd.result`: what the device did with a command."""

    name: Annotated[str, msgspec.Meta(max_length=40)]
    nonce: Annotated[str, msgspec.Meta(max_length=64)]
    ok: bool
    code: Annotated[str, msgspec.Meta(max_length=40)] = ""
    result: FreeForm = {}


COMMAND_RESULT = event("cmd.result", CommandResult, Nothing)
