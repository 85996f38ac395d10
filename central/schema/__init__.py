"""Central's schema as one description (SQLAlchemy Core), from which a PostgreSQL store is
made; a SQLite store reaches the same by its named migrations, and a test holds the two equal.
The tables are described beside the part that owns them."""

from central.schema import access, backbone, circulation
from central.schema.columns import META

__all__ = ["META", "access", "backbone", "circulation"]
