"""Shared fixtures: a private mosquitto and central per test."""

import pytest

from tests.harness import Network


@pytest.fixture
def net(tmp_path):
    """A started broker and central store (central itself is started by the test)."""
    network = Network(tmp_path)
    yield network
    network.close()
