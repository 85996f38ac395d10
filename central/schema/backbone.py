"""The backbone's tables: devices, messages, datasets, commands, doors."""

from sqlalchemy import Column, Index, Table, text

from central.schema.columns import META, Bytes, Int, Str, where

Table(
    "_migrations", META,
    Column("name", Str, primary_key=True),
    Column("applied_at", Str, nullable=False),
)


Table(
    "access_log", META,
    Column("id", Int, primary_key=True),
    Column("dev", Str, nullable=False),
    Column("site", Str, nullable=False),
    Column("door", Str, nullable=False),
    Column("card", Str, nullable=False),
    Column("result", Str, nullable=False),
    Column("at", Str, nullable=False),
    Column("seq", Int, nullable=False),
    Column("received_at", Str, nullable=False),
    Column("room", Str, nullable=False, server_default=text("''")),
    Column("direction", Str, nullable=False, server_default=text("'in'")),
    Index("access_log_at", "site", "at"),
)


Table(
    "command_results", META,
    Column("id", Int, primary_key=True),
    Column("dev", Str, nullable=False),
    Column("nonce", Str, nullable=False),
    Column("name", Str, nullable=False),
    Column("outcome", Str, nullable=False),
    Column("result", Bytes, nullable=False),
    Column("at", Str, nullable=False),
)


Table(
    "commands", META,
    Column("id", Int, primary_key=True),
    Column("nonce", Str, nullable=False, unique=True),
    Column("dev", Str, nullable=False),
    Column("name", Str, nullable=False),
    Column("args", Bytes, nullable=False),
    Column("expires", Str, nullable=False),
    Column("issued_at", Str, nullable=False),
    Column("sent_at", Str),
    Index("commands_unsent", "issued_at", **where('sent_at IS NULL')),
)


Table(
    "compartments", META,
    Column("dev", Str, primary_key=True),
    Column("site", Str, nullable=False),
    Column("compartment", Str, primary_key=True),
    Column("open", Int, nullable=False),
    Column("occupied", Int, nullable=False),
    Column("at", Str, nullable=False),
)


Table(
    "counters", META,
    Column("name", Str, primary_key=True),
    Column("value", Int, nullable=False),
)


Table(
    "dataset_deltas", META,
    Column("site", Str, primary_key=True),
    Column("dataset", Str, primary_key=True),
    Column("version", Int, primary_key=True, autoincrement=False),
    Column("changes", Bytes, nullable=False),
)


Table(
    "dataset_heads", META,
    Column("site", Str, primary_key=True),
    Column("dataset", Str, primary_key=True),
    Column("version", Int, nullable=False),
)


Table(
    "dataset_rows", META,
    Column("site", Str, primary_key=True),
    Column("dataset", Str, primary_key=True),
    Column("key", Str, primary_key=True),
    Column("version", Int, nullable=False),
    Column("value", Bytes),
    Index("dataset_rows_pull", "site", "dataset", "version", "key", "value"),
)


Table(
    "device_configs", META,
    Column("dev", Str, primary_key=True),
    Column("version", Int, primary_key=True, autoincrement=False),
    Column("body", Str, nullable=False),
    Column("created_at", Str, nullable=False),
)


Table(
    "device_status", META,
    Column("dev", Str, primary_key=True),
    Column("online", Int, nullable=False),
    Column("body", Bytes, nullable=False),
    Column("updated_at", Str, nullable=False),
    Column("since", Str),
)


Table(
    "devices", META,
    Column("id", Str, primary_key=True),
    Column("site", Str, nullable=False),
    Column("kind", Str, nullable=False),
    Column("enrolled_at", Str, nullable=False),
    Column("revoked_at", Str),
    Column("command_key", Str),
    Column("ca_expires", Str),
    Column("resync_due", Int, nullable=False, server_default=text('0')),
)


Table(
    "door_alarms", META,
    Column("id", Int, primary_key=True),
    Column("dev", Str, nullable=False),
    Column("site", Str, nullable=False),
    Column("door", Str, nullable=False),
    Column("alarm", Str, nullable=False),
    Column("active", Int, nullable=False),
    Column("at", Str, nullable=False),
    Column("acked_by", Str),
    Column("acked_at", Str),
)


Table(
    "invitations", META,
    Column("id", Str, primary_key=True),
    Column("dev", Str, nullable=False),
    Column("site", Str, nullable=False),
    Column("kind", Str, nullable=False),
    Column("secret_sha256", Str, nullable=False),
    Column("created_at", Str, nullable=False),
    Column("expires", Str, nullable=False),
    Column("used_at", Str),
)


Table(
    "processed", META,
    Column("dev", Str, primary_key=True),
    Column("id", Str, primary_key=True),
    Column("type", Str, nullable=False),
    Column("received_at", Str, nullable=False),
    Column("response", Bytes),
    Index("processed_age", "received_at"),
)


Table(
    "rejected", META,
    Column("n", Int, primary_key=True),
    Column("dev", Str, nullable=False),
    Column("id", Str, nullable=False),
    Column("type", Str, nullable=False),
    Column("code", Str, nullable=False),
    Column("message", Str, nullable=False),
    Column("size", Int, nullable=False),
    Column("sha256", Str, nullable=False),
    Column("excerpt", Bytes, nullable=False),
    Column("received_at", Str, nullable=False),
)


Table(
    "roster", META,
    Column("site", Str, primary_key=True),
    Column("room", Str, primary_key=True),
    Column("card", Str, primary_key=True),
    Column("entered_at", Str, nullable=False),
)


Table(
    "site_keys", META,
    Column("site", Str, primary_key=True),
    Column("key_hex", Str, nullable=False),
)


Table(
    "site_keys_previous", META,
    Column("site", Str, primary_key=True),
    Column("key_hex", Str, nullable=False),
    Column("until", Str, nullable=False),
)


Table(
    "sweeps", META,
    Column("site", Str, nullable=False),
    Column("room", Str, nullable=False),
    Column("count", Int, nullable=False),
    Column("inside", Bytes, nullable=False),
    Column("at", Str, nullable=False),
)
