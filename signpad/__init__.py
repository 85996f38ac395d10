"""signpad package."""
