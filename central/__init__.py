"""Central: the circulation store, the device-facing MQTT service and the staff tools."""
