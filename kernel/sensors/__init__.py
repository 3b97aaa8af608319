"""Sensor formats shared by edge and hub: the typed reading, alarm rules and the device profile table."""
