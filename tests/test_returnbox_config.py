"""The return box's config and bin rules: the shipped example is valid, mistakes are named, and
the rules pick bins as documented (pure)."""

import subprocess
import sys

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from edge_common.config import load
from edge_common.errors import ConfigError
from returnbox.config import BinRule, ReturnboxConfig, SortingSection
from returnbox.sorting import Facts, central_route, choose_bin, matches, offline_facts

EXAMPLE = "deploy/returnbox.example.toml"
SORTING = SortingSection(fallback="later", sort_later="later", rules=[
    BinRule(bin="holds", routes=["hold_shelf"]),
    BinRule(bin="later", warnings=["attachments"]),
    BinRule(bin="transit", routes=["transit"]),
    BinRule(bin="children", routes=["reshelve"], categories=["children"]),
    BinRule(bin="music", routes=["reshelve"], call_from="78", call_to="78"),
    BinRule(bin="shelf", routes=["reshelve"], homes=["center"]),
])


def test_the_example_pi_config_is_valid():
    """The example: a serial scanner, a PC/SC card reader, five bins, the flap needs a card."""
    cfg = load(EXAMPLE, ReturnboxConfig)
    assert type(cfg.item_reader).__name__ == "SerialReaderConfig"
    assert [b.name for b in cfg.bins] == ["holds", "transit", "children", "shelf", "later"]
    assert cfg.box.flap_requires_card and cfg.gpio.flap_lock_pin == 27


def test_check_config_names_the_bad_key_and_a_rule_for_a_missing_bin(tmp_path):
    """`--check-config` names a misspelt key, and refuses a rule naming no bin."""
    text = open(EXAMPLE).read()
    bad = tmp_path / "returnbox.toml"
    bad.write_text(text.replace("jam_timeout", "jam_time", 1))
    run = subprocess.run([sys.executable, "-m", "returnbox.daemon", "--config", str(bad),
                          "--check-config"], capture_output=True, text=True)
    assert run.returncode != 0 and "unknown key 'box.jam_time'" in run.stderr, run.stderr
    bad.write_text(text.replace('bin = "children"', 'bin = "kids"', 1))
    with pytest.raises(ConfigError, match="no bin named 'kids'"):
        load(bad, ReturnboxConfig)
    good = subprocess.run([sys.executable, "-m", "returnbox.daemon", "--config", EXAMPLE,
                           "--check-config"], capture_output=True, text=True)
    assert good.returncode == 0 and "ok (5 bins, 5 rules)" in good.stdout


def test_the_simulated_belt_needs_mock_pins_and_a_jam_timeout_past_the_travel_time():
    """Two mistakes a config can make that the schema alone would not catch."""
    raw = msgspec.to_builtins(load(EXAMPLE, ReturnboxConfig))
    raw["simulator"] = {"belt": True}
    with pytest.raises(msgspec.ValidationError, match="pin_factory"):
        msgspec.convert(raw, ReturnboxConfig)
    raw["simulator"] = {}
    raw["box"]["jam_timeout"] = 1.0
    with pytest.raises(msgspec.ValidationError, match="jam_timeout"):
        msgspec.convert(raw, ReturnboxConfig)


@pytest.mark.parametrize("facts, full, bin, fallback", [
    (Facts("hold_shelf"), set(), "holds", False),
    (Facts("hold_shelf", warnings=("attachments",)), set(), "holds", False),   # first match wins
    (Facts("reshelve", warnings=("attachments",)), set(), "later", False),
    (Facts("transit", home="other"), set(), "transit", False),
    (Facts("reshelve", category="children", home="center"), set(), "children", False),
    (Facts("reshelve", category="book", call_number="78.1 Moz", home="center"), set(), "music",
     False),
    (Facts("reshelve", category="book", call_number="821 Pre", home="center"), set(), "shelf",
     False),
    (Facts("reshelve", category="book", home="elsewhere"), set(), "later", False),  # no rule
    (Facts("sort_later"), set(), "later", False),
    (Facts("hold_shelf"), {"holds"}, "later", True),
    (Facts("hold_shelf"), {"holds", "later"}, None, True),
])
def test_rules_pick_the_first_matching_bin_and_the_fallback_when_it_is_full(facts, full, bin,
                                                                           fallback):
    """The table of the documented rule behaviour."""
    choice = choose_bin(SORTING, facts, full)
    assert (choice.bin, choice.fallback) == (bin, fallback)


@given(st.text(max_size=12))
def test_a_call_number_range_holds_exactly_the_numbers_between_its_ends(call):
    """`call_from` ≤ number, and the number's start ≤ `call_to` (prefix-inclusive), ignoring
    case; an item without a call number never matches a range."""
    rule = BinRule(bin="music", call_from="78", call_to="79")
    expected = bool(call) and call.casefold() >= "78" and call.casefold()[:2] <= "79"
    assert matches(rule, Facts("reshelve", call_number=call)) == expected


def test_central_routes_and_offline_routes():
    """Central's words become bin routes; offline, held → hold shelf, ours → rules, else later."""
    assert central_route("ib_set_aside", "center", "center") == "hold_shelf"
    assert central_route("ib_set_aside", "other", "center") == "transit"
    assert central_route("something_new", "", "center") == "sort_later"
    assert offline_facts(True, ("book", "821"), "center").route == "hold_shelf"
    assert offline_facts(False, ("book", "821"), "center") == Facts(
        "reshelve", category="book", call_number="821", home="center")
    assert offline_facts(False, None, "center").route == "sort_later"


BIN_NAMES = ["holds", "transit", "children", "music", "shelf", "later"]
facts_strategy = st.builds(
    Facts, route=st.sampled_from(["hold_shelf", "transit", "reshelve", "sort_later"]),
    category=st.sampled_from(["", "book", "children"]),
    call_number=st.sampled_from(["", "78.1", "821", "9"]),
    home=st.sampled_from(["", "center", "other"]),
    warnings=st.lists(st.sampled_from(["attachments", "hold_waiting"]), max_size=2).map(tuple))


@given(facts_strategy, st.sets(st.sampled_from(BIN_NAMES)))
def test_a_chosen_bin_is_never_full_and_is_the_first_match_unless_it_was(facts, full):
    """Whatever the item and whichever bins are full: the bin chosen is not full; it is the
    first matching rule's (or the default) bin when that one has room, else the fallback;
    None only when the fallback is full too."""
    first = next((r.bin for r in SORTING.rules if matches(r, facts)),
                 "later" if facts.route == "sort_later" else SORTING.fallback)
    choice = choose_bin(SORTING, facts, full)
    assert choice.bin is None or choice.bin not in full
    if first not in full:
        assert (choice.bin, choice.fallback) == (first, False)
    elif SORTING.fallback not in full:
        assert (choice.bin, choice.fallback, choice.wanted) == (SORTING.fallback, True, first)
    else:
        assert choice.bin is None
