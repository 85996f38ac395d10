"""lockd: the door daemon for toilets, reading rooms and evening-hours entry."""
