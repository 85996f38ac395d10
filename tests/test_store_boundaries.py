"""Central's backbone (fleet, ingest, datasets, commands) and its circulation domain meet
through functions, never through each other's tables: a table belongs to the migrations that
made it, and only its own side's SQL names it."""

import re
from pathlib import Path

import sqlite_utils

from central.circulation.migrations import CIRCULATION_MIGRATIONS
from central.migrations import MIGRATIONS
from edge_common.migrations import apply

ROOT = Path(__file__).resolve().parent.parent
# backbone modules that may name a circulation table, and why
CROSSING = {
    "access_counts.py": "an access event is counted in its branch's local hour (branches.tz)",
    "admin_cli.py": "`admin init` makes the first administrator (staff)",
}


def _tables(migrations) -> set[str]:
    db = sqlite_utils.Database(memory=True)
    apply(db, migrations)
    return {name for (name,) in db.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name != '_migrations'")}


def _named(path: Path, tables: set[str]) -> set[str]:
    sql = path.read_text()
    return {t for t in tables
            if re.search(rf"\b(FROM|JOIN|INTO|UPDATE|TABLE)\s+{t}\b", sql, re.IGNORECASE)}


BACKBONE = _tables(MIGRATIONS)
CIRCULATION = _tables([*MIGRATIONS, *CIRCULATION_MIGRATIONS]) - BACKBONE


def test_the_circulation_domain_names_no_table_of_the_backbone():
    found = {p.name: _named(p, BACKBONE) for p in (ROOT / "central/circulation").glob("*.py")
             if p.name != "migrations.py"}
    assert {name: t for name, t in found.items() if t} == {}


def test_the_backbone_names_no_table_of_the_circulation_domain():
    found = {p.name: _named(p, CIRCULATION) for p in (ROOT / "central").glob("*.py")
             if p.name not in CROSSING}
    assert {name: t for name, t in found.items() if t} == {}


def test_the_check_sees_a_table_named_in_sql(tmp_path):
    assert "site_keys" in BACKBONE and "patrons" in CIRCULATION
    probe = tmp_path / "probe.py"
    probe.write_text('SQL = "SELECT key_hex FROM site_keys k JOIN patrons p ON 1"\n')
    assert _named(probe, BACKBONE) == {"site_keys"}
    assert _named(probe, CIRCULATION) == {"patrons"}
