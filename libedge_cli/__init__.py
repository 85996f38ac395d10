"""libedge_cli package."""
