"""The `--db` a staff command takes: central's store as a file or a URL."""

from typing import Any

import click

from central.database import is_url


class StoreTarget(click.ParamType):
    """Central's store: a PostgreSQL URL, or a SQLite file's path (that exists, unless `new`)."""

    name = "store"

    def __init__(self, new: bool = False) -> None:
        self._file = click.Path(exists=not new, dir_okay=False)

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> str:
        """The URL as given, or the checked path."""
        if is_url(str(value)):
            return str(value)
        return str(self._file.convert(value, param, ctx))
