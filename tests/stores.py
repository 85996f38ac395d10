"""Central's two stores for tests: a SQLite file, or a database of its own on the PostgreSQL
server `make test` starts (LIBEDGE_TEST_POSTGRES; by default the local server, as the role
deploy/test-postgres.sh makes).

Each PostgreSQL test gets a copy of a template made once per test process: copying a database
is a file copy, far quicker than making 57 tables.
"""

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from sqlalchemy.engine import make_url

from central.circulation import settings
from central.database import connect
from central.store import open_store

SERVER = os.environ.get("LIBEDGE_TEST_POSTGRES",
                        "postgresql://libedge_test:libedge_test@127.0.0.1:5432/postgres")


def url_of(name: str) -> str:
    """The URL of database `name` on the test server."""
    return str(make_url(SERVER).set(database=name).render_as_string(hide_password=False))


def _admin(sql: str) -> None:
    with psycopg.connect(SERVER, autocommit=True) as conn:
        conn.execute(sql)


class WriteLock:
    """Another connection that takes and holds the store's writer lock, as a busy writer
    would: SQLite's write transaction, or PostgreSQL's advisory lock."""

    def __init__(self, target: str) -> None:
        self._db = connect(target)
        self._held: Any = None

    def take(self) -> None:
        """Take the lock (waiting for any writer before)."""
        self._held = self._db.transaction()
        self._held.__enter__()

    def release(self) -> None:
        """Let the lock go, writing nothing."""
        if self._held is not None:
            held, self._held = self._held, None
            held.__exit__(None, None, None)

    def close(self) -> None:
        """Let go and close the connection."""
        self.release()
        self._db.close()


class Server:
    """The test server's databases made by this process: a template with central's schema,
    and one copy per test, each dropped when done."""

    def __init__(self) -> None:
        self.template = f"libedge_tpl_{uuid.uuid4().hex[:12]}"
        _admin(f"CREATE DATABASE {self.template}")
        open_store(url_of(self.template), init=True).close()

    @contextmanager
    def database(self) -> Iterator[str]:
        """A new store copied from the template, as a URL, with a folder of its own for
        signed forms; both gone afterwards."""
        name = f"libedge_t_{uuid.uuid4().hex[:12]}"
        _admin(f"CREATE DATABASE {name} TEMPLATE {self.template}")
        forms = tempfile.mkdtemp(prefix="libedge-forms-")
        try:
            db = connect(url_of(name))
            settings.store(db, archive_dir=forms)
            db.close()
            yield url_of(name)
        finally:
            _admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            shutil.rmtree(forms, ignore_errors=True)

    def close(self) -> None:
        """Drop the template."""
        _admin(f"DROP DATABASE IF EXISTS {self.template} WITH (FORCE)")
