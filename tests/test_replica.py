"""Replicated datasets on the device: deltas only in order, pulls write rows, versions persist."""

from hypothesis import given
from hypothesis import strategies as st

from edge_common.replica import Replicas, Verdict, classify


@given(st.integers(0, 10**9), st.integers(0, 10**9))
def test_classify(current, incoming):
    verdict = classify(current, incoming)
    if incoming == current + 1:
        assert verdict is Verdict.APPLY
    elif incoming <= current:
        assert verdict is Verdict.STALE
    else:
        assert verdict is Verdict.GAP


def test_apply_and_reopen(tmp_path):
    r = Replicas(str(tmp_path / "r.db"), clock=lambda: 42.0)
    r.apply("allowlist", [("k1", {"blk": False}), ("k2", {"blk": True})], 1)
    r.apply("allowlist", [("k1", None)], 2)
    r.apply("allowlist", [("k3", {})], None)
    r.close()
    r = Replicas(str(tmp_path / "r.db"))
    assert r.version("allowlist") == 2 and r.synced_at("allowlist") == 42.0
    assert r.get("allowlist", "k1") is None
    assert r.get("allowlist", "k2") == b'{"blk":true}'
    assert r.count("allowlist") == 2
    assert r.version("other") == 0
