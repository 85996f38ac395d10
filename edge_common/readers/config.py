"""Declared reader configuration, one tagged section per kind of reader."""

from typing import Annotated, Literal

import msgspec

from edge_common.config import Baudrate, Schema


class SimReaderConfig(Schema, tag="sim", tag_field="kind", frozen=True):
    """The simulator: reads taps sent to a Unix datagram socket (`libedge tap`)."""

    socket: str
    name: str = "sim"


class SerialReaderConfig(Schema, tag="serial", tag_field="kind", frozen=True):
    """A line-based reader on a serial port (a pyserial URL or a device path)."""

    url: str
    baudrate: Baudrate = 9600
    name: str = "serial"
    kind_of_data: Literal["uid", "barcode"] = "barcode"
    max_line: Annotated[int, msgspec.Meta(ge=1, le=65536)] = 64


class PcscReaderConfig(Schema, tag="pcsc", tag_field="kind", frozen=True):
    """A PC/SC reader through pcscd, chosen by a part of its name (empty: the first)."""

    reader: str = ""
    name: str = "pcsc"
    poll_interval: Annotated[float, msgspec.Meta(gt=0, le=10)] = 0.2


class NfcReaderConfig(Schema, tag="nfc", tag_field="kind", frozen=True):
    """An nfcpy front end: "usb", "usb:BUS:DEV" or "udp:HOST:PORT"."""

    path: str = "usb"
    name: str = "nfc"


ReaderConfig = SimReaderConfig | SerialReaderConfig | PcscReaderConfig | NfcReaderConfig
