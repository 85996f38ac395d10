"""The receipt printer's paper state, asked over ESC/POS (DLE EOT 4) and named by a stable code.

python-escpos' own `paper_status()` reports "plenty of paper" when the printer does not answer
at all, and "no paper" for a byte that is not a status; here both are `unknown`.
"""

import logging
from typing import TYPE_CHECKING, Literal

from edge_common.printer import PrinterConfig, PrinterUnavailable, close_printer, open_printer

if TYPE_CHECKING:
    from escpos.escpos import Escpos

log = logging.getLogger(__name__)
PaperState = Literal["ok", "low", "out", "unknown", "unavailable", "none"]
FIXED_MASK, FIXED_BITS = 0x93, 0x12  # bits 0 and 7 always 0, bits 1 and 4 always 1
NEAR_END, PAPER_END = 0x0C, 0x60


def decode(answer: bytes) -> PaperState:
    """The state a paper-sensor status byte reports; no answer or a stray byte is `unknown`."""
    if len(answer) != 1 or answer[0] & FIXED_MASK != FIXED_BITS:
        return "unknown"
    if answer[0] & PAPER_END:
        return "out"
    return "low" if answer[0] & NEAR_END else "ok"


def paper_state(printer: "Escpos") -> PaperState:
    """Ask an open python-escpos printer for its paper (waits up to its read timeout)."""
    from escpos.constants import RT_STATUS_PAPER

    try:
        return decode(printer.query_status(RT_STATUS_PAPER))
    except NotImplementedError:
        return "unknown"  # a connection that cannot read back (Dummy, File, LP)
    except Exception as exc:  # noqa: BLE001 - every driver has its own error types
        log.warning("printer status query failed: %s", type(exc).__name__)
        return "unavailable"


def printer_status(cfg: PrinterConfig) -> PaperState:
    """Open the configured printer, ask for its paper state and close it again."""
    if cfg.kind == "none":
        return "none"
    try:
        printer = open_printer(cfg)
    except PrinterUnavailable:
        return "unavailable"
    try:
        return paper_state(printer)
    finally:
        close_printer(printer)
