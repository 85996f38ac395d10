"""The simulated reader `make demo` and `libedge tap` use, wherever its folder lies."""

import queue

from edge_common.readers.config import SimReaderConfig
from edge_common.readers.sim import SimReader, send_sim_tap


def test_a_reader_whose_socket_path_is_longer_than_unix_allows_still_takes_taps(tmp_path):
    """A demo run deep in a home directory gives socket paths past the kernel's 107 bytes: the
    reader binds there all the same, takes a tap and answers it."""
    folder = tmp_path / ("deep-" * 20)
    path = str(folder / "doors" / "returnbox-card.sock")
    assert len(path) > 107
    reader = SimReader(SimReaderConfig(socket=path, name="card"))
    taps: queue.Queue = queue.Queue()
    reader.start(lambda read: (taps.put(read.uid), read.reply and read.reply("granted")),
                 lambda state, detail: None)
    try:
        assert send_sim_tap(path, "04A1B2C3", answer_within=30) == "granted"
        assert taps.get(timeout=30) == "04A1B2C3"
        send_sim_tap(path, "04D4E5F6")
        assert taps.get(timeout=30) == "04D4E5F6"
    finally:
        reader.stop()
