"""The circulation domain's tables: patrons, cards, items, loans, holds, money, forms, staff."""

from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, Table, UniqueConstraint, text

from central.schema.columns import META, Int, Str, where

Table(
    "allocations", META,
    Column("payment_id", Int, ForeignKey("payments.id"), primary_key=True, autoincrement=False),
    Column("debt_id", Int, ForeignKey("debts.id"), primary_key=True, autoincrement=False),
    Column("amount", Int, nullable=False),
    CheckConstraint('amount > 0'),
    Index("allocations_debt", "debt_id"),
)


Table(
    "audit", META,
    Column("id", Int, primary_key=True),
    Column("at", Str, nullable=False),
    Column("staff_id", Str, nullable=False),
    Column("branch_id", Str),
    Column("action", Str, nullable=False),
    Column("subject", Str, nullable=False),
    Column("before", Str),
    Column("after", Str),
    Column("outcome", Str),
    Index("audit_staff", "staff_id"),
    Index("audit_subject", "subject"),
)


Table(
    "branches", META,
    Column("id", Str, primary_key=True),
    Column("name", Str, nullable=False),
    Column("address", Str),
    Column("phone", Str),
    Column("email", Str),
    Column("post_office", Str),
    Column("signatory", Str),
    Column("tz", Str, nullable=False),
    Column("ib_max_items", Int, nullable=False, server_default=text('20')),
)


Table(
    "calendars", META,
    Column("branch_id", Str, primary_key=True),
    Column("year", Int, primary_key=True, autoincrement=False),
)


Table(
    "card_hashes", META,
    Column("site", Str, primary_key=True),
    Column("hash", Str, primary_key=True),
    Column("uid", Str, nullable=False),
    Index("card_hashes_uid", "uid"),
)


Table(
    "cards", META,
    Column("uid", Str, primary_key=True),
    Column("patron_id", Int, ForeignKey("patrons.id"), nullable=False),
    Column("kind", Str, nullable=False),
    Column("active", Int, nullable=False, server_default=text('1')),
    Index("cards_patron", "patron_id"),
)


Table(
    "circ_counts", META,
    Column("day", Str, primary_key=True),
    Column("branch_id", Str, primary_key=True),
    Column("kind", Str, primary_key=True),
    Column("count", Int, nullable=False),
)


Table(
    "closed_days", META,
    Column("branch_id", Str, primary_key=True),
    Column("day", Str, primary_key=True),
    Column("reason", Str),
)


Table(
    "debts", META,
    Column("id", Int, primary_key=True),
    Column("patron_id", Int, nullable=False),
    Column("branch_id", Str, nullable=False),
    Column("kind", Str, nullable=False),
    Column("amount", Int, nullable=False),
    Column("created_at", Str, nullable=False),
    Column("loan_id", Int),
    Column("note", Str),
    Column("ref", Str, unique=True),
    CheckConstraint('amount > 0'),
    Index("debts_patron", "patron_id", "branch_id"),
)


Table(
    "form_archive", META,
    Column("form_id", Int, ForeignKey("forms.id"), primary_key=True),
    Column("patron_id", Int),
    Column("kind", Str, nullable=False),
    Column("terms_version", Str),
    Column("signed_at", Str),
    Column("archived_at", Str, nullable=False),
    Column("pad", Str),
    Column("staff_id", Str),
    Column("sha256", Str),
    Column("sealed_sha256", Str),
    Column("pdf_bytes", Int),
    Column("path", Str),
    Column("area", Str, nullable=False),
    Column("deleted_at", Str),
    Index("form_archive_patron", "patron_id"),
)


Table(
    "form_corrections", META,
    Column("id", Int, primary_key=True),
    Column("form_id", Int, ForeignKey("forms.id"), nullable=False),
    Column("revision", Int, nullable=False),
    Column("field", Str, nullable=False),
    Column("asked_at", Str, nullable=False),
    Column("fixed_at", Str),
    Index("form_corrections_form", "form_id"),
)


Table(
    "form_terms", META,
    Column("id", Int, primary_key=True),
    Column("version", Str, nullable=False),
    Column("lang", Str, nullable=False),
    UniqueConstraint("version", "lang"),
    Column("text", Str, nullable=False),
    Column("added_at", Str, nullable=False),
    Column("added_by", Str),
)


Table(
    "forms", META,
    Column("id", Int, primary_key=True),
    Column("patron_id", Int),
    Column("kind", Str, nullable=False),
    Column("branch_id", Str, nullable=False),
    Column("pad", Str),
    Column("staff_id", Str),
    Column("state", Str, nullable=False),
    Column("revision", Int, nullable=False, server_default=text('1')),
    Column("lang", Str),
    Column("terms_version", Str),
    Column("fields", Str),
    Column("signers", Str),
    Column("created_at", Str, nullable=False),
    Column("updated_at", Str, nullable=False),
    Column("closed_at", Str),
    Index("forms_pad", "pad", "state"),
    Index("forms_patron", "patron_id"),
)


Table(
    "holds", META,
    Column("id", Int, primary_key=True),
    Column("title_id", Int, nullable=False),
    Column("patron_id", Int),
    Column("branch_id", Str, nullable=False),
    Column("for_branch", Str),
    Column("placed_at", Str, nullable=False),
    Column("expires", Str, nullable=False),
    Column("state", Str, nullable=False),
    Column("item_id", Int),
    Column("ready_at", Str),
    Column("pickup_by", Str),
    Column("closed_at", Str),
    Index("holds_item", "item_id", unique=True, **where("state IN ('in_transit', 'ready')")),
    Index("holds_patron", "patron_id", "state"),
    Index("holds_queue", "title_id", "branch_id", "state", "placed_at", "id"),
)


Table(
    "ib_loans", META,
    Column("id", Int, primary_key=True),
    Column("item_id", Int, nullable=False),
    Column("home_branch", Str, nullable=False),
    Column("to_branch", Str, nullable=False),
    Column("patron_id", Int),
    Column("state", Str, nullable=False),
    Column("requested_at", Str, nullable=False),
    Column("lent_at", Str),
    Column("due", Str),
    Column("closed_at", Str),
    Index("ib_loans_branch", "to_branch", "state"),
    Index("ib_loans_open_item", "item_id", unique=True, **where("state != 'closed'")),
)


Table(
    "item_categories", META,
    Column("code", Str, primary_key=True),
    Column("name", Str, nullable=False),
    Column("in_library_only", Int, nullable=False, server_default=text('0')),
)


Table(
    "items", META,
    Column("id", Int, primary_key=True),
    Column("barcode", Str, nullable=False, unique=True),
    Column("accession", Str, unique=True),
    Column("call_number", Str),
    Column("title_id", Int, ForeignKey("titles.id"), nullable=False),
    Column("category", Str, nullable=False),
    Column("home_branch", Str, nullable=False),
    Column("at_branch", Str, nullable=False),
    Column("status", Str, nullable=False, server_default=text("'available'")),
    Column("attachments", Str),
    Column("generic", Int, nullable=False, server_default=text('0')),
    Column("status_at", Str),
    Column("status_note", Str),
    Index("items_call_number", "call_number"),
    Index("items_status", "status", "home_branch"),
    Index("items_title", "title_id", "home_branch", "status"),
)


Table(
    "loan_rules", META,
    Column("patron_category", Str, primary_key=True),
    Column("item_category", Str, primary_key=True),
    Column("may_borrow", Int, nullable=False, server_default=text('1')),
    Column("loan_days", Int, nullable=False, server_default=text('21')),
    Column("max_items", Int, nullable=False, server_default=text('10')),
    Column("max_renewals", Int, nullable=False, server_default=text('2')),
    Column("fine_per_day", Int, nullable=False, server_default=text('0')),
    Column("fine_cap", Int, nullable=False, server_default=text('0')),
    Column("hold_allowed", Int, nullable=False, server_default=text('1')),
    Column("ib_loan_days", Int, nullable=False, server_default=text('21')),
    Column("ib_max_items", Int, nullable=False, server_default=text('5')),
)


Table(
    "loans", META,
    Column("id", Int, primary_key=True),
    Column("item_id", Int, ForeignKey("items.id"), nullable=False),
    Column("patron_id", Int),
    Column("title_id", Int, nullable=False),
    Column("branch_id", Str, nullable=False),
    Column("out_at", Str, nullable=False),
    Column("due", Str, nullable=False),
    Column("renewals", Int, nullable=False, server_default=text('0')),
    Column("returned_at", Str),
    Column("returned_branch", Str),
    Column("ib_loan_id", Int),
    Column("overrides", Str),
    Column("override_by", Str),
    Column("closed_as", Str),
    Index("loans_open_due", "due", **where('returned_at IS NULL')),
    Index("loans_item", "item_id", "out_at"),
    Index("loans_open_item", "item_id", unique=True, **where('returned_at IS NULL')),
    Index("loans_patron", "patron_id", "returned_at"),
    Index("loans_patron_title", "patron_id", "title_id"),
)


Table(
    "notices", META,
    Column("id", Int, primary_key=True),
    Column("patron_id", Int),
    Column("branch_id", Str, nullable=False),
    Column("kind", Str, nullable=False),
    Column("key", Str, nullable=False, unique=True),
    Column("channel", Str, nullable=False),
    Column("body", Str, nullable=False),
    Column("created_at", Str, nullable=False),
    Column("sent_at", Str),
    Column("withdrawn", Str),
    Index("notices_unsent", "channel", **where('sent_at IS NULL')),
)


Table(
    "opening_hours", META,
    Column("branch_id", Str, primary_key=True),
    Column("weekday", Int, primary_key=True, autoincrement=False),
    Column("opens", Str, nullable=False),
    Column("closes", Str, nullable=False),
)


Table(
    "patron_categories", META,
    Column("code", Str, primary_key=True),
    Column("name", Str, nullable=False),
    Column("max_items", Int, nullable=False, server_default=text('20')),
    Column("membership_months", Int, nullable=False, server_default=text('12')),
    Column("fee", Int, nullable=False, server_default=text('0')),
    Column("legal_person", Int, nullable=False, server_default=text('0')),
    Column("guardian_under", Int, nullable=False, server_default=text('18')),
)


Table(
    "patrons", META,
    Column("id", Int, primary_key=True),
    Column("category", Str, nullable=False),
    Column("blocked", Int, nullable=False, server_default=text('0')),
    Column("valid_until", Str),
    Column("is_staff", Int, nullable=False, server_default=text('0')),
    Column("surname", Str, nullable=False, server_default=text("''")),
    Column("first_name", Str),
    Column("birth_date", Str),
    Column("legal_person", Int, nullable=False, server_default=text('0')),
    Column("email", Str),
    Column("phone", Str),
    Column("address", Str),
    Column("language", Str),
    Column("notify", Str, nullable=False, server_default=text("'email'")),
    Column("status", Str, nullable=False, server_default=text("'active'")),
    Column("registered_at", Str),
    Column("completed_at", Str),
    Column("archived_at", Str),
    Column("home_branch", Str),
    Column("library_card", Str),
    Column("pin_hash", Str),
    Column("agreement", Int, nullable=False, server_default=text('0')),
    Column("form_signed", Int, nullable=False, server_default=text('0')),
    Column("note", Str),
    Column("surname_key", Str),
    Column("first_name_key", Str),
    Column("block_note", Str),
    Column("paper_form_by", Str),
    Column("paper_form_at", Str),
    Index("patrons_library_card", "library_card", unique=True, **where('library_card IS NOT NULL')),
    Index("patrons_status", "status", "registered_at"),
    Index("patrons_surname_key", "surname_key"),
)


Table(
    "payments", META,
    Column("id", Int, primary_key=True),
    Column("patron_id", Int, nullable=False),
    Column("branch_id", Str, nullable=False),
    Column("amount", Int, nullable=False),
    Column("method", Str, nullable=False),
    Column("created_at", Str, nullable=False),
    Column("day", Str, nullable=False),
    Column("staff_id", Str),
    Column("dev", Str),
    Column("ref", Str, unique=True),
    Column("deleted_at", Str),
    Column("deleted_by", Str),
    CheckConstraint('amount >= 0'),
    Index("payments_day", "branch_id", "day"),
    Index("payments_patron", "patron_id"),
)


Table(
    "rooms", META,
    Column("id", Str, primary_key=True),
    Column("branch_id", Str, ForeignKey("branches.id"), nullable=False),
    Column("name", Str, nullable=False),
)


Table(
    "settings", META,
    Column("key", Str, primary_key=True),
    Column("value", Str, nullable=False),
)


Table(
    "sign_in_throttle", META,
    Column("key", Str, primary_key=True),
    Column("failures", Int, nullable=False),
    Column("last_at", Str, nullable=False),
    Index("sign_in_throttle_last", "last_at"),
)


Table(
    "staff", META,
    Column("id", Str, primary_key=True),
    Column("name", Str, nullable=False),
    Column("role", Str, nullable=False),
    Column("last_branch", Str),
    Column("password_hash", Str),
)


Table(
    "staff_alerts", META,
    Column("id", Int, primary_key=True),
    Column("branch_id", Str, nullable=False),
    Column("kind", Str, nullable=False),
    Column("code", Str, nullable=False),
    Column("dev", Str),
    Column("message_id", Str),
    Column("details", Str, nullable=False),
    Column("created_at", Str, nullable=False),
    Column("resolved_at", Str),
    Column("resolved_by", Str),
    Index("staff_alerts_open", "branch_id", **where('resolved_at IS NULL')),
)


Table(
    "staff_branches", META,
    Column("staff_id", Str, primary_key=True),
    Column("branch_id", Str, primary_key=True),
)


Table(
    "staff_sessions", META,
    Column("id", Str, primary_key=True),
    Column("staff_id", Str, ForeignKey("staff.id"), nullable=False),
    Column("csrf", Str, nullable=False),
    Column("created_at", Str, nullable=False),
    Column("seen_at", Str, nullable=False),
)


Table(
    "titles", META,
    Column("id", Int, primary_key=True),
    Column("title", Str, nullable=False),
    Column("author", Str),
    Column("isbn", Str),
    Column("quick", Int, nullable=False, server_default=text('0')),
)
