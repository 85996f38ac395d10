"""MQTT topic names of the libedge wire (DESIGN §2)."""

import re

ROOT = "lib/v1"
DEVICE_CHANNELS = ("evt", "ack", "req", "res", "cmd", "status")
DEVICE_SENDS = ("evt", "req", "status")  # a device publishes on these of its own channels
DEVICE_READS = ("ack", "res", "cmd", "status")  # ... and may subscribe to these
_DEVICE_TOPIC = re.compile(r"^lib/v1/dev/([^/+#]+)/(evt|ack|req|res|cmd|status)$")
_SYNC_TOPIC = re.compile(r"^lib/v1/site/([^/+#]+)/sync/([^/+#]+)$")
_CENTRAL_TOPIC = re.compile(r"^lib/v1/central/([^/+#]+)/status$")
CENTRAL_STATUS_ALL = f"{ROOT}/central/+/status"


def device(dev: str, channel: str) -> str:
    """`lib/v1/dev/{dev}/{channel}`."""
    if channel not in DEVICE_CHANNELS:
        raise ValueError(f"unknown channel {channel!r}")
    return f"{ROOT}/dev/{dev}/{channel}"


def all_devices(channel: str) -> str:
    """`lib/v1/dev/+/{channel}`: one channel of every device (central's subscriptions)."""
    return device("+", channel)


def response(dev: str) -> str:
    """`lib/v1/dev/{dev}/res`: where `dev` gets central's answers, and nowhere else."""
    return device(dev, "res")


def shared(group: str, topic: str) -> str:
    """`$share/{group}/{topic}`: an MQTT 5 shared subscription, served by one member a message."""
    return f"$share/{group}/{topic}"


def sync(site: str, dataset: str) -> str:
    """`lib/v1/site/{site}/sync/{dataset}`."""
    return f"{ROOT}/site/{site}/sync/{dataset}"


def parse_device(topic: str) -> tuple[str, str] | None:
    """(dev, channel) of a device topic, or None."""
    m = _DEVICE_TOPIC.match(topic)
    return (m.group(1), m.group(2)) if m else None


def parse_sync(topic: str) -> tuple[str, str] | None:
    """(site, dataset) of a sync topic, or None."""
    m = _SYNC_TOPIC.match(topic)
    return (m.group(1), m.group(2)) if m else None


def central_status(worker: str) -> str:
    """`lib/v1/central/{worker}/status`: retained, with a will saying the worker is gone."""
    return f"{ROOT}/central/{worker}/status"


def parse_central_status(topic: str) -> str | None:
    """The worker id of a central status topic, or None."""
    m = _CENTRAL_TOPIC.match(topic)
    return m.group(1) if m else None
