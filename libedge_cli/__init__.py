"""The umbrella `libedge` command."""
