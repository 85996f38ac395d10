"""lockd package."""
