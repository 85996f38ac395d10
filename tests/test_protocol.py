"""The wire protocol is declared once: central handles exactly the declared messages, every
refusal code used anywhere is in the vocabulary, bodies and answers round-trip."""

import re
from pathlib import Path

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

import central.service  # noqa: F401 - registers every handler
from central.handlers import REGISTRY
from edge_common import envelope, protocol
from edge_common.errors import InvalidMessage
from edge_common.protocol import refusals, table
from edge_common.protocol.circulation import LOAN_CHECKOUT, Checkout
from edge_common.protocol.datasets import ALLOWLIST, AllowEntry, check_row, decode_row
from libedge_cli.main import USAGE_CODES

ROOT = Path(__file__).resolve().parent.parent
CODE = re.compile(r'code="([a-z][a-z0-9_]*)"')


def test_central_handles_exactly_the_declared_messages():
    assert set(REGISTRY) == set(protocol.MESSAGES)
    for type, handler in REGISTRY.items():
        assert handler.message is protocol.MESSAGES[type]


def test_the_readme_lists_every_message_type_as_declared():
    text = (ROOT / "README.md").read_text()
    assert table.markdown() in text, "run `python -m edge_common.protocol.table` into README"


def test_every_refusal_code_in_the_code_is_in_the_vocabulary():
    sources = [p for pkg in ("central", "lockd", "lockers", "kiosk", "edge_common")
               for p in (ROOT / pkg).rglob("*.py")]
    used = {c for p in sources for c in CODE.findall(p.read_text())}
    used |= {c for c in re.findall(r'reasons\.append\("([a-z_]+)"\)',
                                   (ROOT / "central/circulation/holds.py").read_text())}
    used |= {c for p in sources for pair in re.findall(
        r'code = "([a-z][a-z0-9_]*)" if .+ else "([a-z][a-z0-9_]*)"', p.read_text()) for c in pair}
    staff_tools = [*sources, *(ROOT / "libedge_cli").rglob("*.py")]
    used |= {c for p in staff_tools
             for c in re.findall(r'ClickException\(\s*f?"\[([a-z_]+)\]', p.read_text())}
    used |= {code for _, code in USAGE_CODES}
    assert len(used) > 60
    assert used - refusals.ALL == set()


def test_a_door_and_central_say_the_same_code_for_the_same_fact():
    for code in ("card_unknown", "patron_blocked", "membership_expired", "category_not_allowed"):
        assert code in refusals.CIRCULATION and code in set(refusals.Door)
    assert "debt_over_limit" in set(refusals.Door)
    assert not {"blocked", "expired", "unknown_card", "debt_limit"} & refusals.ALL


def test_a_body_the_receiver_does_not_know_is_refused_with_a_code():
    with pytest.raises(InvalidMessage) as bad:
        LOAN_CHECKOUT.decode_body({"card": "a" * 64, "item": "B1", "patron_name": "Ana"})
    assert bad.value.code == "bad_body"
    with pytest.raises(InvalidMessage) as bad:
        LOAN_CHECKOUT.decode_answer({"loan": "one"})
    assert bad.value.code == "answer_invalid"


def test_an_answer_may_carry_fields_a_device_does_not_know_yet():
    got = LOAN_CHECKOUT.decode_answer({"loan": 3, "barcode": "B1", "title": "T",
                                       "due": "2026-12-01", "shelf_mark": "X"})
    assert got.loan == 3 and str(got.due) == "2026-12-01"


@given(st.text(max_size=70), st.text(max_size=70))
def test_bodies_round_trip_through_the_envelope(card, item):
    try:
        body = msgspec.convert({"card": card, "item": item}, Checkout)
    except msgspec.ValidationError:
        return
    env = envelope.decode(envelope.encode(envelope.make(LOAN_CHECKOUT.type, "kiosk-1", body)))
    assert LOAN_CHECKOUT.decode_body(env.body) == body


def test_allow_entries_travel_with_short_names_and_read_back():
    entry = AllowEntry(category="adult", blocked=True, staff=False)
    raw = msgspec.json.encode(entry)
    assert b'"blk":true' in raw and b"blocked" not in raw
    assert decode_row(ALLOWLIST, raw) == entry
    check_row(ALLOWLIST, msgspec.json.decode(raw))
