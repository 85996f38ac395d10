"""What every device needs: MQTT link, durable outbox, replicas, config, card identity, readers,
the access decision, a door's state, GPIO pin factory and contacts, and receipt printer."""
__version__ = "0.1.0"
