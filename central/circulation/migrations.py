"""The circulation schema, as named append-only migrations after the backbone's."""

import sqlite_utils

from central.circulation.folding import fold
from edge_common.migrations import with_row_ids

PATRON_COLUMNS = [
    ("surname", "TEXT NOT NULL DEFAULT ''"), ("first_name", "TEXT"), ("birth_date", "TEXT"),
    ("legal_person", "INTEGER NOT NULL DEFAULT 0"), ("email", "TEXT"), ("phone", "TEXT"),
    ("address", "TEXT"), ("language", "TEXT"), ("notify", "TEXT NOT NULL DEFAULT 'email'"),
    ("status", "TEXT NOT NULL DEFAULT 'active'"), ("registered_at", "TEXT"),
    ("completed_at", "TEXT"), ("archived_at", "TEXT"), ("home_branch", "TEXT"),
    ("library_card", "TEXT"), ("pin_hash", "TEXT"), ("agreement", "INTEGER NOT NULL DEFAULT 0"),
    ("form_signed", "INTEGER NOT NULL DEFAULT 0"), ("note", "TEXT"),
]


def _patrons_cards(db: sqlite_utils.Database) -> None:
    """Patrons and their cards (named 0003: it ran among the backbone's once, and kept its name)."""
    db.execute(
        "CREATE TABLE patrons (id INTEGER PRIMARY KEY, category TEXT NOT NULL,"
        " blocked INTEGER NOT NULL DEFAULT 0, valid_until TEXT,"
        " is_staff INTEGER NOT NULL DEFAULT 0)"
    )
    db.execute(
        "CREATE TABLE cards (uid TEXT PRIMARY KEY, patron_id INTEGER NOT NULL"
        " REFERENCES patrons(id), kind TEXT NOT NULL, active INTEGER NOT NULL DEFAULT 1)"
    )
    db.execute("CREATE INDEX cards_patron ON cards (patron_id)")


def _branches(db: sqlite_utils.Database) -> None:
    db.execute(
        "CREATE TABLE branches (id TEXT PRIMARY KEY, name TEXT NOT NULL, address TEXT,"
        " phone TEXT, email TEXT, post_office TEXT, signatory TEXT, tz TEXT NOT NULL,"
        " ib_max_items INTEGER NOT NULL DEFAULT 20)"
    )
    db.execute("CREATE TABLE rooms (id TEXT PRIMARY KEY, branch_id TEXT NOT NULL"
               " REFERENCES branches(id), name TEXT NOT NULL)")
    db.execute(
        "CREATE TABLE calendars (branch_id TEXT NOT NULL, year INTEGER NOT NULL,"
        " PRIMARY KEY (branch_id, year)) WITHOUT ROWID"
    )
    db.execute(
        "CREATE TABLE closed_days (branch_id TEXT NOT NULL, day TEXT NOT NULL, reason TEXT,"
        " PRIMARY KEY (branch_id, day)) WITHOUT ROWID"
    )
    db.execute(
        "CREATE TABLE opening_hours (branch_id TEXT NOT NULL, weekday INTEGER NOT NULL,"
        " opens TEXT NOT NULL, closes TEXT NOT NULL, PRIMARY KEY (branch_id, weekday))"
    )
    db.execute("CREATE TABLE staff (id TEXT PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL,"
               " last_branch TEXT)")
    db.execute("CREATE TABLE staff_branches (staff_id TEXT NOT NULL, branch_id TEXT NOT NULL,"
               " PRIMARY KEY (staff_id, branch_id)) WITHOUT ROWID")
    db.execute("CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)")


def _categories(db: sqlite_utils.Database) -> None:
    db.execute(
        "CREATE TABLE patron_categories (code TEXT PRIMARY KEY, name TEXT NOT NULL,"
        " max_items INTEGER NOT NULL DEFAULT 20, membership_months INTEGER NOT NULL DEFAULT 12,"
        " fee INTEGER NOT NULL DEFAULT 0, legal_person INTEGER NOT NULL DEFAULT 0)"
    )
    db.execute(
        "CREATE TABLE item_categories (code TEXT PRIMARY KEY, name TEXT NOT NULL,"
        " in_library_only INTEGER NOT NULL DEFAULT 0)"
    )
    db.execute(
        "CREATE TABLE loan_rules (patron_category TEXT NOT NULL, item_category TEXT NOT NULL,"
        " may_borrow INTEGER NOT NULL DEFAULT 1, loan_days INTEGER NOT NULL DEFAULT 21,"
        " max_items INTEGER NOT NULL DEFAULT 10, max_renewals INTEGER NOT NULL DEFAULT 2,"
        " fine_per_day INTEGER NOT NULL DEFAULT 0, fine_cap INTEGER NOT NULL DEFAULT 0,"
        " hold_allowed INTEGER NOT NULL DEFAULT 1, ib_loan_days INTEGER NOT NULL DEFAULT 21,"
        " ib_max_items INTEGER NOT NULL DEFAULT 5,"
        " PRIMARY KEY (patron_category, item_category)) WITHOUT ROWID"
    )


def _patrons(db: sqlite_utils.Database) -> None:
    for name, decl in PATRON_COLUMNS:
        db.execute(f"ALTER TABLE patrons ADD COLUMN {name} {decl}")
    db.execute("CREATE UNIQUE INDEX patrons_library_card ON patrons (library_card)"
               " WHERE library_card IS NOT NULL")
    db.execute("CREATE INDEX patrons_status ON patrons (status, registered_at)")
    db.execute(
        "CREATE TABLE card_hashes (site TEXT NOT NULL, hash TEXT NOT NULL, uid TEXT NOT NULL,"
        " PRIMARY KEY (site, hash)) WITHOUT ROWID"
    )
    db.execute("CREATE INDEX card_hashes_uid ON card_hashes (uid)")


def _items(db: sqlite_utils.Database) -> None:
    db.execute("CREATE TABLE titles (id INTEGER PRIMARY KEY, title TEXT NOT NULL, author TEXT,"
               " isbn TEXT, quick INTEGER NOT NULL DEFAULT 0)")
    db.execute(
        "CREATE TABLE items (id INTEGER PRIMARY KEY, barcode TEXT NOT NULL UNIQUE,"
        " accession TEXT UNIQUE, call_number TEXT, title_id INTEGER NOT NULL REFERENCES titles(id),"
        " category TEXT NOT NULL, home_branch TEXT NOT NULL, at_branch TEXT NOT NULL,"
        " status TEXT NOT NULL DEFAULT 'available', attachments TEXT, generic INTEGER NOT NULL"
        " DEFAULT 0)"
    )
    db.execute("CREATE INDEX items_call_number ON items (call_number)")
    db.execute("CREATE INDEX items_title ON items (title_id, home_branch, status)")


def _loans(db: sqlite_utils.Database) -> None:
    db.execute(
        "CREATE TABLE loans (id INTEGER PRIMARY KEY, item_id INTEGER NOT NULL REFERENCES items(id),"
        " patron_id INTEGER, title_id INTEGER NOT NULL, branch_id TEXT NOT NULL,"
        " out_at TEXT NOT NULL, due TEXT NOT NULL, renewals INTEGER NOT NULL DEFAULT 0,"
        " returned_at TEXT, returned_branch TEXT, ib_loan_id INTEGER)"
    )
    db.execute("CREATE UNIQUE INDEX loans_open_item ON loans (item_id) WHERE returned_at IS NULL")
    db.execute("CREATE INDEX loans_patron ON loans (patron_id, returned_at)")
    db.execute("CREATE INDEX loans_open_due ON loans (due) WHERE returned_at IS NULL")
    db.execute("CREATE INDEX loans_patron_title ON loans (patron_id, title_id)")
    db.execute(
        "CREATE TABLE holds (id INTEGER PRIMARY KEY, title_id INTEGER NOT NULL,"
        " patron_id INTEGER NOT NULL, branch_id TEXT NOT NULL, for_branch TEXT,"
        " placed_at TEXT NOT NULL, expires TEXT NOT NULL, state TEXT NOT NULL,"
        " item_id INTEGER, ready_at TEXT, pickup_by TEXT, closed_at TEXT)"
    )
    db.execute("CREATE INDEX holds_queue ON holds (title_id, branch_id, state, placed_at, id)")
    db.execute("CREATE INDEX holds_patron ON holds (patron_id, state)")
    db.execute("CREATE UNIQUE INDEX holds_item ON holds (item_id) WHERE state IN"
               " ('in_transit', 'ready')")
    db.execute(
        "CREATE TABLE ib_loans (id INTEGER PRIMARY KEY, item_id INTEGER NOT NULL,"
        " home_branch TEXT NOT NULL, to_branch TEXT NOT NULL, patron_id INTEGER,"
        " state TEXT NOT NULL, requested_at TEXT NOT NULL, lent_at TEXT, due TEXT,"
        " closed_at TEXT)"
    )
    db.execute("CREATE UNIQUE INDEX ib_loans_open_item ON ib_loans (item_id)"
               " WHERE state != 'closed'")
    db.execute("CREATE INDEX ib_loans_branch ON ib_loans (to_branch, state)")


def _money(db: sqlite_utils.Database) -> None:
    db.execute(
        "CREATE TABLE debts (id INTEGER PRIMARY KEY, patron_id INTEGER NOT NULL,"
        " branch_id TEXT NOT NULL, kind TEXT NOT NULL, amount INTEGER NOT NULL CHECK (amount > 0),"
        " created_at TEXT NOT NULL, loan_id INTEGER, note TEXT, ref TEXT UNIQUE)"
    )
    db.execute("CREATE INDEX debts_patron ON debts (patron_id, branch_id)")
    db.execute(
        "CREATE TABLE payments (id INTEGER PRIMARY KEY, patron_id INTEGER NOT NULL,"
        " branch_id TEXT NOT NULL, amount INTEGER NOT NULL CHECK (amount >= 0),"
        " method TEXT NOT NULL, created_at TEXT NOT NULL, day TEXT NOT NULL, staff_id TEXT,"
        " dev TEXT, ref TEXT UNIQUE, deleted_at TEXT, deleted_by TEXT)"
    )
    db.execute("CREATE INDEX payments_patron ON payments (patron_id)")
    db.execute("CREATE INDEX payments_day ON payments (branch_id, day)")
    db.execute(
        "CREATE TABLE allocations (payment_id INTEGER NOT NULL REFERENCES payments(id),"
        " debt_id INTEGER NOT NULL REFERENCES debts(id), amount INTEGER NOT NULL"
        " CHECK (amount > 0), PRIMARY KEY (payment_id, debt_id)) WITHOUT ROWID"
    )
    db.execute("CREATE INDEX allocations_debt ON allocations (debt_id)")


def _notices(db: sqlite_utils.Database) -> None:
    db.execute(
        "CREATE TABLE notices (id INTEGER PRIMARY KEY, patron_id INTEGER, branch_id TEXT NOT NULL,"
        " kind TEXT NOT NULL, key TEXT NOT NULL UNIQUE, channel TEXT NOT NULL,"
        " body TEXT NOT NULL, created_at TEXT NOT NULL, sent_at TEXT)"
    )
    db.execute("CREATE INDEX notices_unsent ON notices (channel) WHERE sent_at IS NULL")


def _statistics(db: sqlite_utils.Database) -> None:
    db.execute(
        "CREATE TABLE circ_counts (day TEXT NOT NULL, branch_id TEXT NOT NULL, kind TEXT NOT NULL,"
        " count INTEGER NOT NULL, PRIMARY KEY (day, branch_id, kind)) WITHOUT ROWID"
    )


def _alerts(db: sqlite_utils.Database) -> None:
    db.execute(
        "CREATE TABLE staff_alerts (id INTEGER PRIMARY KEY, branch_id TEXT NOT NULL,"
        " kind TEXT NOT NULL, code TEXT NOT NULL, dev TEXT, message_id TEXT, details TEXT NOT NULL,"
        " created_at TEXT NOT NULL, resolved_at TEXT, resolved_by TEXT)"
    )
    db.execute("CREATE INDEX staff_alerts_open ON staff_alerts (branch_id)"
               " WHERE resolved_at IS NULL")


def _withdrawn_notices(db: sqlite_utils.Database) -> None:
    db.execute("ALTER TABLE notices ADD COLUMN withdrawn TEXT")   # why it was not sent


def _loan_overrides(db: sqlite_utils.Database) -> None:
    db.execute("ALTER TABLE loans ADD COLUMN overrides TEXT")       # the checks staff passed
    db.execute("ALTER TABLE loans ADD COLUMN override_by TEXT")     # and who passed them


def _audit(db: sqlite_utils.Database) -> None:
    db.execute(
        "CREATE TABLE audit (id INTEGER PRIMARY KEY, at TEXT NOT NULL, staff_id TEXT NOT NULL,"
        " branch_id TEXT, action TEXT NOT NULL, subject TEXT NOT NULL, before TEXT, after TEXT,"
        " outcome TEXT)"
    )
    db.execute("CREATE INDEX audit_subject ON audit (subject)")
    db.execute("CREATE INDEX audit_staff ON audit (staff_id)")


def _staff_login(db: sqlite_utils.Database) -> None:
    """Passwords (argon2 hashes), failed sign-ins and web sessions of staff."""
    db.execute("ALTER TABLE staff ADD COLUMN password_hash TEXT")
    db.execute("ALTER TABLE staff ADD COLUMN failed_logins INTEGER NOT NULL DEFAULT 0")
    db.execute("ALTER TABLE staff ADD COLUMN locked_until TEXT")
    db.execute(
        "CREATE TABLE staff_sessions (id TEXT PRIMARY KEY, staff_id TEXT NOT NULL"
        " REFERENCES staff(id), csrf TEXT NOT NULL, created_at TEXT NOT NULL,"
        " seen_at TEXT NOT NULL)"
    )


def _forms(db: sqlite_utils.Database) -> None:
    """Terms versions, forms signed on a pad, the patron's corrections and the sealed archive."""
    db.execute("CREATE TABLE form_terms (version TEXT NOT NULL, lang TEXT NOT NULL,"
               " text TEXT NOT NULL, added_at TEXT NOT NULL, added_by TEXT,"
               " PRIMARY KEY (version, lang))")
    db.execute(
        "CREATE TABLE forms (id INTEGER PRIMARY KEY, patron_id INTEGER, kind TEXT NOT NULL,"
        " branch_id TEXT NOT NULL, pad TEXT, staff_id TEXT, state TEXT NOT NULL,"
        " revision INTEGER NOT NULL DEFAULT 1, lang TEXT, terms_version TEXT, fields TEXT,"
        " signers TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL, closed_at TEXT)"
    )
    db.execute("CREATE INDEX forms_pad ON forms (pad, state)")
    db.execute("CREATE INDEX forms_patron ON forms (patron_id)")
    db.execute(
        "CREATE TABLE form_corrections (id INTEGER PRIMARY KEY, form_id INTEGER NOT NULL"
        " REFERENCES forms(id), revision INTEGER NOT NULL, field TEXT NOT NULL,"
        " asked_at TEXT NOT NULL, fixed_at TEXT)"
    )
    db.execute("CREATE INDEX form_corrections_form ON form_corrections (form_id)")
    db.execute(
        "CREATE TABLE form_archive (form_id INTEGER PRIMARY KEY REFERENCES forms(id),"
        " patron_id INTEGER, kind TEXT NOT NULL, terms_version TEXT, signed_at TEXT,"
        " archived_at TEXT NOT NULL, pad TEXT, staff_id TEXT, sha256 TEXT, sealed_sha256 TEXT,"
        " pdf_bytes INTEGER, path TEXT, area TEXT NOT NULL, deleted_at TEXT)"
    )
    db.execute("CREATE INDEX form_archive_patron ON form_archive (patron_id)")
    # below this age a guardian signs beside the patron (0: never), per patron category
    db.execute("ALTER TABLE patron_categories ADD COLUMN guardian_under INTEGER NOT NULL"
               " DEFAULT 18")


def _patron_search_keys(db: sqlite_utils.Database) -> None:
    """Names folded for search (no diacritics, no case), kept by the domain code on every write,
    so the same query runs on any database."""
    for column in ("surname", "first_name"):
        db.execute(f"ALTER TABLE patrons ADD COLUMN {column}_key TEXT")
    db.conn.executemany("UPDATE patrons SET surname_key = ?, first_name_key = ? WHERE id = ?",
                        [(fold(s), fold(f), i) for i, s, f in db.execute(
                            "SELECT id, surname, first_name FROM patrons").fetchall()])
    db.execute("CREATE INDEX patrons_surname_key ON patrons (surname_key)")


def _block_notes(db: sqlite_utils.Database) -> None:
    """Why a patron is blocked, apart from the patron's own note, so lifting it keeps that."""
    db.execute("ALTER TABLE patrons ADD COLUMN block_note TEXT")


def _paper_forms(db: sqlite_utils.Database) -> None:
    """A registration form signed on paper: who of the staff recorded it, and when."""
    db.execute("ALTER TABLE patrons ADD COLUMN paper_form_by TEXT")
    db.execute("ALTER TABLE patrons ADD COLUMN paper_form_at TEXT")


def _item_statuses(db: sqlite_utils.Database) -> None:
    """When and why an item got its status (lost, missing, damaged, withdrawn), and a loan
    closed by such a status rather than by a return."""
    db.execute("ALTER TABLE items ADD COLUMN status_at TEXT")
    db.execute("ALTER TABLE items ADD COLUMN status_note TEXT")
    db.execute("ALTER TABLE loans ADD COLUMN closed_as TEXT")
    db.execute("CREATE INDEX items_status ON items (status, home_branch)")


def _holds_anonymised(db: sqlite_utils.Database) -> None:
    """A closed hold may name nobody, as a returned loan may: erasure cuts it from its patron.
    (The table is rebuilt inside the migration's transaction, its indexes with it.)"""
    for sql in db.table("holds").transform_sql(not_null={"patron_id": False}):
        db.execute(sql)


def _loans_by_item(db: sqlite_utils.Database) -> None:
    """An item's loans by when they started: a checkout asks which loan of the item was open
    at a moment and which started since (backdating), and scanned every loan to answer."""
    db.execute("CREATE INDEX loans_item ON loans (item_id, out_at)")


def _sign_in_throttle(db: sqlite_utils.Database) -> None:
    """Failed sign-ins counted per source and per source and name (throttled, never locked),
    instead of per account."""
    db.execute("CREATE TABLE sign_in_throttle (key TEXT PRIMARY KEY, failures INTEGER NOT NULL,"
               " last_at TEXT NOT NULL)")
    db.execute("CREATE INDEX sign_in_throttle_last ON sign_in_throttle (last_at)")
    db.execute("ALTER TABLE staff DROP COLUMN failed_logins")
    db.execute("ALTER TABLE staff DROP COLUMN locked_until")


CIRCULATION_MIGRATIONS = [
    ("0003_patrons_cards", _patrons_cards),
    ("0101_branches", _branches),
    ("0102_categories", _categories),
    ("0103_patrons", _patrons),
    ("0104_items", _items),
    ("0105_loans_holds", _loans),
    ("0106_money", _money),
    ("0107_notices", _notices),
    ("0108_statistics", _statistics),
    ("0120_staff_alerts", _alerts),
    ("0121_audit", _audit),
    ("0122_withdrawn_notices", _withdrawn_notices),
    ("0123_loan_overrides", _loan_overrides),
    ("0130_staff_login", _staff_login),
    ("0150_forms", _forms),
    ("0180_patron_search_keys", _patron_search_keys),
    ("0181_block_notes", _block_notes),
    ("0182_paper_forms", _paper_forms),
    ("0183_item_statuses", _item_statuses),
    ("0200_holds_anonymised", _holds_anonymised),
    ("0210_sign_in_throttle", _sign_in_throttle),
    ("0211_form_terms_ids", lambda db: with_row_ids(db, "form_terms",
                                                           "PRIMARY KEY (version, lang)")),
    ("0212_loans_by_item", _loans_by_item),
]
