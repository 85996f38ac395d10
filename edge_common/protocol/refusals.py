"""The one vocabulary of refusal codes: what a door, a device or central says when it says no.

The same fact has the same code everywhere (a blocked card is `patron_blocked` at a door, a
kiosk and a desk), so the UIs translate each code once.
"""

from enum import StrEnum


class Door(StrEnum):
    """A door's verdict on a card, decided locally (`granted`, or why not)."""

    GRANTED = "granted"
    CARD_UNKNOWN = "card_unknown"
    PATRON_BLOCKED = "patron_blocked"
    MEMBERSHIP_EXPIRED = "membership_expired"
    UNDERAGE = "underage"
    CLOSED_NOW = "closed_now"
    CATEGORY_NOT_ALLOWED = "category_not_allowed"
    DEBT_OVER_LIMIT = "debt_over_limit"
    NO_AGREEMENT = "no_agreement"
    RATE_LIMITED = "rate_limited"
    PASSBACK = "passback"
    LIST_STALE = "list_stale"
    LOCKDOWN = "lockdown"


class Device(StrEnum):
    """Refusals a device gives by itself, without central."""

    NEEDS_CONNECTION = "needs_connection"
    OFFLINE_LIMIT = "offline_limit"
    PAYMENT_TERMINAL_ERROR = "payment_terminal_error"


WIRE = frozenset({
    # the envelope and the handler registry
    "payload_too_large", "envelope_invalid", "json_invalid", "bad_body", "answer_invalid",
    "dev_mismatch", "device_unknown", "type_unknown", "type_not_allowed", "internal_error",
    "remote_error", "response_invalid", "status_invalid", "message_invalid", "offline",
    "timeout", "response_topic_invalid", "nesting_too_deep",
    # commands
    "command_refused", "command_invalid", "command_expired", "command_replayed",
    "command_unknown", "command_failed", "command_wrong_device", "command_key_missing",
    "command_unauthenticated", "device_has_no_key", "door_unknown", "door_lockdown",
    "compartment_unknown", "compartment_required",
})

CIRCULATION = frozenset({
    # who the patron is and whether they may borrow
    "card_unknown", "card_taken", "bad_card", "bad_card_kind", "patron_unknown",
    "patron_blocked", "membership_expired", "registration_incomplete", "debt_over_limit",
    "pin_wrong", "pin_locked", "bad_pin", "not_active", "not_preregistered", "not_archived",
    "loans_open",
    # items, loans, renewals, holds
    "item_unknown", "item_not_found", "item_ambiguous", "item_unavailable", "item_not_free",
    "item_other_branch", "item_in_transit", "item_in_library_only", "in_library_only",
    "already_on_loan", "item_on_loan", "already_borrowed", "not_on_loan", "loan_unknown",
    "loan_limit", "category_not_allowed",
    "no_rule", "reserved_for_other", "same_title_now", "same_title_before",
    "renewal_limit", "hold_waiting", "overdue", "hold_unknown", "hold_not_allowed",
    "hold_closed", "already_held", "copy_available", "no_copies_at_branch",
    "no_copies_elsewhere", "title_unknown",
    # inter-branch loans
    "ib_limit", "ib_unknown", "ib_wrong_state", "ib_return_elsewhere", "ib_other_patron",
    "ib_item_no_holds",
    # money
    "bad_amount", "bad_method", "bad_debt_kind", "debt_unknown", "payment_unknown",
    "payment_deleted", "ref_reused", "no_credit",
    # notices, branches, staff, records
    "no_email", "no_sender", "notice_malformed", "branch_unknown", "branch_never_open",
    "branch_not_assigned", "staff_unknown", "role_required", "supervisor_required",
    "tz_unknown", "bad_weekday", "bad_day", "bad_date", "bad_role", "bad_notify",
    "bad_field", "bad_rule", "bad_barcode", "barcode_taken", "accession_taken",
    "category_unknown", "surname_required", "too_long", "csv_invalid", "csv_too_large",
    "csv_missing_column", "csv_unknown_column", "csv_not_utf8", "bad_agreement", "bad_hours",
    "bad_days", "bad_value", "already_exists", "patron_ambiguous", "search_empty",
    "alert_unknown", "already_resolved", "not_extended", "form_unsigned", "staff_required",
    "bad_language", "day_not_closed", "form_already_signed",
    # a store on PostgreSQL whose signed forms have no folder named yet
    "archive_unset",
    # money per branch: a credit payment is never edited into money; a command on a patron
    # by staff of several branches names the branch it acts at
    "credit_payment", "branch_required",
    # copies out of stock (lost, missing, damaged, withdrawn)
    "bad_status", "already_marked", "item_in_stock",
    # why a queued notice was withdrawn instead of sent
    "hold_not_ready", "loan_returned", "loan_changed", "membership_renewed",
    # an offline return central routed otherwise than the return box did (a staff alert)
    "route_differs",
    # an event dated in the past that met a present that moved on: a copy lent again since
    # (refused), a return the desk took in later (backdated), fees charged since (reversed),
    # an offline loan whose return reached central first (closed when the copy went in)
    "lent_since", "return_backdated", "fees_reversed", "returned_since",
})

# What a return box says of an item's RFID tag by itself (returnbox.tags): unreadable, or
# another library's ("not ours").
TAGS = frozenset({
    "tag_length", "tag_crc", "tag_version", "tag_id_invalid", "tag_owner_invalid",
    "tag_block_invalid", "tag_not_ours",
})

# Signed forms: starting one on a pad, the pad's corrections and submission, the archive's
# checks (`libedge admin form verify`), terms versions and the pads' events.
FORMS = frozenset({
    "pad_offline", "not_a_signpad", "pad_busy", "form_kind_unknown", "form_not_for_patron",
    "form_open", "form_unknown", "form_closed", "field_unknown", "field_not_editable",
    "form_archived", "form_revision_stale", "signature_missing", "bad_pdf", "hash_mismatch",
    "pdf_unreadable", "form_not_archived", "terms_missing", "terms_english_missing",
    "event_unknown", "form_file_missing", "sealed_file_changed", "seal_missing", "seal_broken",
    "seal_untrusted", "modified_after_seal",
})

# What the staff command line says besides the domain's refusals: its own usage and the store.
STAFF_TOOLS = frozenset({
    "bad_usage", "missing_value", "unknown_option", "db_unusable", "store_not_empty", "conflict",
    "bad_setting",
    # input at the edges of its range, and a --db that is not central's store
    "out_of_range", "bad_characters", "blank", "bad_email", "bad_currency", "bad_year",
    "db_not_libedge", "write_failed",
    # a PostgreSQL store lacking a step this version cannot add there
    "db_outdated",
    # a backup never written over a file (`libedge admin backup`), and pg_dump's or
    # pg_restore's failure on a PostgreSQL store
    "backup_exists", "backup_failed",
})

# Enrolment, the CA, the broker's accounts and configuration as data.
PROVISIONING = frozenset({
    "token_invalid", "token_used", "token_expired", "request_invalid", "not_found",
    "enrol_failed", "central_unreachable", "central_invalid", "ca_mismatch", "write_failed",
    "ca_invalid", "ca_missing", "ca_exists", "broker_refused", "broker_unreachable",
    "enrolment_unavailable", "config_invalid", "config_stale", "config_key_invalid",
    "config_key_local", "site_unknown", "rotation_pending", "id_invalid", "id_reserved",
    "kind_unknown",
})


# What the staff web pages say besides the domain's refusals: sign-in, forms, filters, pages.
WEB = frozenset({
    "signed_out", "login_failed", "login_throttled", "password_too_short", "csrf_failed",
    "form_too_large", "request_timeout", "value_too_long", "bad_request", "no_such_page",
    "method_not_allowed", "bad_range", "range_too_long", "room_unknown", "table_unknown",
    "alarm_unknown",
})

ALL = (frozenset(Door) | frozenset(Device) | WIRE | CIRCULATION | FORMS | STAFF_TOOLS
       | PROVISIONING | WEB | TAGS)
