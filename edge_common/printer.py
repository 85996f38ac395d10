"""Receipt printers: plain lines (no patron name), printed through python-escpos.

Wiring: serial printers on a USB-serial adapter (`/dev/ttyUSB0`), USB printers by vendor and
product id, network printers on port 9100.
"""

import logging
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Literal, Protocol

import msgspec

from edge_common.config import Baudrate, Port, Schema
from edge_common.errors import EdgeError

if TYPE_CHECKING:
    from escpos.escpos import Escpos

log = logging.getLogger(__name__)
Style = Literal["title", "heading", "text", "total"]
UsbId = Annotated[int, msgspec.Meta(ge=0, le=0xFFFF)]


class PrinterConfig(Schema, frozen=True):
    """Which ESC/POS printer the device has ("none" offers no printed receipt)."""

    kind: Literal["none", "serial", "usb", "network", "dummy"] = "none"
    device: str = "/dev/ttyUSB0"
    baudrate: Baudrate = 19200
    vendor_id: UsbId = 0
    product_id: UsbId = 0
    host: str = ""
    port: Port = 9100
    width: Annotated[int, msgspec.Meta(ge=16, le=255)] = 42  # characters per line


class PrinterUnavailable(EdgeError, OSError):
    """The printer is missing, offline or out of paper."""

    code = "printer_unavailable"


@dataclass(frozen=True)
class Line:
    """One receipt line and how it is emphasised."""

    style: Style
    text: str


class Dates(Protocol):
    """Whatever writes a date in the patron's language (a patron screen's translator)."""

    def day(self, value: date) -> str:
        """A date the way the language writes it."""


def header(t: Dates, library: str, branch: str, when: datetime) -> list[Line]:
    """The lines every receipt starts with: the library, the branch, the date and time."""
    return [Line("title", library), Line("text", branch),
            Line("text", f"{t.day(when.date())} {when:%H:%M}")]


def open_printer(cfg: PrinterConfig) -> "Escpos":
    """A python-escpos printer for the config (imported lazily: an extra)."""
    from escpos import printer

    makers = {
        "serial": lambda: printer.Serial(devfile=cfg.device, baudrate=cfg.baudrate),
        "usb": lambda: printer.Usb(cfg.vendor_id, cfg.product_id),
        "network": lambda: printer.Network(cfg.host, cfg.port, timeout=5),  # not 60 s
    }
    if cfg.kind == "dummy":
        return printer.Dummy()
    if cfg.kind not in makers:
        raise PrinterUnavailable("no printer configured")
    try:
        p = makers[cfg.kind]()
        p.open(raise_not_found=True)
        return p
    except Exception as exc:  # noqa: BLE001 - every driver has its own error types
        raise PrinterUnavailable(str(exc)) from exc


def close_printer(p: "Escpos") -> None:
    """Close a printer; one that has gone away meanwhile is logged, not raised."""
    try:
        p.close()
    except Exception as exc:  # noqa: BLE001 - closing a printer that went away, any driver
        log.warning("printer close failed: %s", type(exc).__name__)


def print_receipt(cfg: PrinterConfig, lines: list[Line]) -> None:
    """Open the configured printer, print the lines, cut and close it (raises
    PrinterUnavailable; a failing close after the receipt is out is only logged)."""
    printer = open_printer(cfg)
    try:
        print_lines(printer, lines)
    finally:
        close_printer(printer)


def print_lines(p: "Escpos", lines: list[Line]) -> None:
    """Send the lines to an escpos printer and cut."""
    try:
        for line in lines:
            p.set(align="center" if line.style == "title" else "left",
                  bold=line.style in ("title", "heading", "total"),
                  double_height=line.style == "title")
            p.textln(line.text)
        p.set(normal_textsize=True)
        p.cut()
    except Exception as exc:  # noqa: BLE001 - a jammed or unplugged printer, any driver
        raise PrinterUnavailable(str(exc)) from exc
