"""returnbox package."""
