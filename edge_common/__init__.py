"""What every device needs: MQTT link, durable outbox, replicas, config, card identity, readers,
the access decision, GPIO pin factory and receipt printer."""
__version__ = "0.1.0"
