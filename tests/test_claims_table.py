"""tests/README.md names, beside each README claim, tests that exist: a renamed or removed test
cannot leave a claim unproven in silence."""

import re
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def test_every_test_the_claims_table_names_exists():
    """Each `file.py::test_name` is in that file; each bare `test_name` in some test file."""
    table = (TESTS / "README.md").read_text()
    files = {p.name: p.read_text() for p in TESTS.glob("test_*.py")}
    defined = {name for text in files.values()
               for name in re.findall(r"^def (test_\w+)", text, re.M)}
    named = re.findall(r"`(test_\w+\.py)::(test_\w+)`", table)
    assert len(named) > 80
    for file, name in named:
        assert file in files and re.search(rf"^def {name}\(", files[file], re.M), (file, name)
    bare = set(re.findall(r"`(test_\w+)`", table))
    assert bare <= defined, sorted(bare - defined)
    for file in re.findall(r"`(test_\w+\.py)`", table):
        assert file in files, file
