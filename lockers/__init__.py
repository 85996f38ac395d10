"""The pickup locker: compartments (lock relay, door contact, occupancy sensor) wired to the
edge runtime."""
