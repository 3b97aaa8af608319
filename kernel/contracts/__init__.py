"""Message contracts shared by edge and hub: MQTT topics (topics.py) and payload schemas (messages.py)."""
