"""`python -m libedge_cli`: the `libedge` command (how the demo starts the web pages)."""

from libedge_cli.main import cli

cli()
