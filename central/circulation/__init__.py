"""Central's circulation domain: branches, patrons, items, loans, holds, money, lifecycle."""
