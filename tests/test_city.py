"""The city simulator that `bench.bench_city` measures, kept from rotting: a tiny fleet on the
real broker and central process applies every event once and gets its answers."""

import pytest

from bench.city import City, Mix
from bench.common import central_process, network
from tests.harness import wait_for


@pytest.fixture
def city():
    """Five devices on their own broker and central process, running; all stopped after."""
    # a short ack timeout, so that some events are sent twice and central must drop the copy
    mix = Mix(door_rate=20.0, request_rate=5.0, status_every=0.5, ack_timeout=0.05)
    with network() as net:
        town = City(net, 5, mix, cards=20)
        with central_process(net), town:
            yield town


def test_a_tiny_city_is_applied_exactly_once_and_answered(city):
    wait_for(lambda: city.tally.sent >= 60 and city.tally.answered and city.raw,
             what="events sent and a request answered")
    city.calm()
    sent = city.tally.sent
    wait_for(lambda: city.tally.acked == sent and not city.backlog(),
             what="every event acknowledged")
    doors = [d.dev for d in city.of_kind("lockd")]
    logged = city.net.db.execute(
        "SELECT count(*), count(DISTINCT dev || ':' || seq) FROM access_log"
        f" WHERE dev IN ({','.join('?' * len(doors))})", doors).fetchone()
    assert logged == (sent, sent)
    assert city.tally.resent > 0 and city.tally.refused == 0 and city.tally.rejected == 0
    wait_for(lambda: city.net.db.execute("SELECT count(*) FROM device_status").fetchone()[0]
             == len(city.devices), what="every device's status kept")
