"""MQTT broker: Mosquitto configuration for development and production, and the `gridwatch broker` launcher."""
