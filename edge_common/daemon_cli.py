"""The command line every daemon shares: `--config FILE [--check-config]` and its errors."""

import logging
from collections.abc import Callable
from typing import TypeVar

import click

from edge_common.config import load
from edge_common.errors import EdgeError

T = TypeVar("T")
LOG_FORMAT = "%(asctime)s %(name)s %(levelname)s %(message)s"


def daemon_command(schema: type[T], what: str, summary: Callable[[T], str] = lambda cfg: ""):
    """Turn `run(cfg)` into a click command that loads and checks the config file first."""
    def wrap(run: Callable[[T], None]) -> click.Command:
        @click.command(help=run.__doc__)
        @click.option("--config", "config_path", required=True, type=click.Path(dir_okay=False),
                      help=f"{what}'s TOML configuration file.")
        @click.option("--check-config", is_flag=True, help="Check the configuration and exit.")
        def main(config_path: str, check_config: bool) -> None:
            logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
            try:
                cfg = load(config_path, schema)
            except EdgeError as exc:
                raise click.ClickException(f"{exc.code}: {exc}") from exc
            if check_config:
                detail = summary(cfg)
                click.echo(f"{config_path}: ok{f' ({detail})' if detail else ''}")
                return
            run(cfg)
        return main
    return wrap
