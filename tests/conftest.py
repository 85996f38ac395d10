"""Shared fixtures: a private mosquitto and central per test, and a kiosk on it; the
hypothesis profile CI uses."""

import os

import pytest
from hypothesis import HealthCheck, settings

from tests.harness import Network, wait_for

# CI runs once, cold (no .hypothesis/), on a loaded machine: the same examples every run, no
# "too slow" verdicts on input generation, no per-example deadlines, nothing saved.
# Elsewhere examples stay random (to find new cases) but, as in CI, how fast a machine that is
# busy with other work generates or runs them is never a verdict: timings are make bench's.
settings.register_profile("ci", derandomize=True, deadline=None, database=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("local", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci" if os.environ.get("CI") else "local")


@pytest.fixture(scope="session")
def postgres():
    """The PostgreSQL server's template store, made once per test process."""
    from tests.stores import Server

    server = Server()
    yield server
    server.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def central_db(request, tmp_path):
    """Where a test's central store is: a new SQLite file, then a new PostgreSQL database."""
    if request.param == "sqlite":
        yield str(tmp_path / "central.db")
        return
    with request.getfixturevalue("postgres").database() as url:
        yield url


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def module_db(request, tmp_path_factory):
    """Where a test module's shared central store is: a SQLite file, then a PostgreSQL
    database."""
    if request.param == "sqlite":
        yield str(tmp_path_factory.mktemp("store") / "central.db")
        return
    with request.getfixturevalue("postgres").database() as url:
        yield url


@pytest.fixture
def pg_database(postgres):
    """A new PostgreSQL store's URL, dropped after the test."""
    with postgres.database() as url:
        yield url


@pytest.fixture
def net(request, tmp_path):
    """A started broker and central store (central itself is started by the test): a SQLite
    file, or a PostgreSQL database where a test asks (`indirect` parameter "postgresql")."""
    if getattr(request, "param", "sqlite") == "sqlite":
        network = Network(tmp_path)
        yield network
        network.close()
        return
    with request.getfixturevalue("postgres").database() as url:
        network = Network(tmp_path, store=url)
        yield network
        network.close()


@pytest.fixture
def kiosk(net, lib):
    """A started kiosk runtime (with the allow-list) that sees central; `lib` is the test
    module's own fixture that fills the store and starts central."""
    dev = net.device("kiosk-1", kind="kiosk", datasets=["allowlist"])
    dev.start()
    wait_for(lambda: dev.central_up, what="kiosk sees central")
    yield dev
    dev.stop()


@pytest.fixture
def fleet(tmp_path):
    """A started provisioning stack (CA, TLS + dynsec broker, enrolment endpoint) and central
    store; central's worker is started by the test (`fleet.start_central()`)."""
    from tests.fleet import Fleet

    f = Fleet(tmp_path)
    yield f
    f.close()


@pytest.fixture
def fleet_central(fleet):
    """`fleet` with central's worker running."""
    fleet.start_central()
    return fleet


@pytest.fixture(scope="session")
def tours(tmp_path_factory):
    """The patron apps' screenshot tours, each drawn once per session when first asked for."""
    from tests.patron_screens import Tours

    return Tours(tmp_path_factory)


@pytest.fixture(scope="module")
def chromium():
    """One headless Chromium for a module of web tests (each test opens its own context)."""
    from tests.web import Chromium

    browser = Chromium()
    yield browser
    browser.close()
