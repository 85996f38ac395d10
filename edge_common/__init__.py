"""Device-side building blocks: MQTT link, durable outbox, replicas, config, card identity."""
__version__ = "0.1.0"
