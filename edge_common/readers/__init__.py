"""Card readers behind one protocol; hardware libraries are imported only by their drivers."""

from edge_common.readers.base import CardRead, CardReader, InvalidCardData, normalise_uid
from edge_common.readers.config import (
    NfcReaderConfig,
    PcscReaderConfig,
    ReaderConfig,
    SerialReaderConfig,
    SimReaderConfig,
)
from edge_common.readers.sim import SimReader, send_sim_tap


def open_reader(cfg: ReaderConfig) -> CardReader:
    """The reader a config section describes."""
    if isinstance(cfg, SimReaderConfig):
        return SimReader(cfg)
    if isinstance(cfg, SerialReaderConfig):
        from edge_common.readers.serial_line import SerialLineReader

        return SerialLineReader(cfg)
    if isinstance(cfg, PcscReaderConfig):
        from edge_common.readers.pcsc import PcscReader

        return PcscReader(cfg)
    if isinstance(cfg, NfcReaderConfig):
        from edge_common.readers.nfc import NfcReader

        return NfcReader(cfg)
    raise TypeError(f"unsupported reader config {type(cfg).__name__}")


__all__ = ["CardRead", "CardReader", "InvalidCardData", "normalise_uid", "open_reader",
           "send_sim_tap"]
