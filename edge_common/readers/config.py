"""Declared reader configuration, one tagged section per kind of reader."""



from edge_common.config import Schema


class SimReaderConfig(Schema, tag="sim", tag_field="kind"):
    """The simulator: reads taps sent to a Unix datagram socket (`libedge tap`)."""

    socket: str
    name: str = "sim"


ReaderConfig = SimReaderConfig


