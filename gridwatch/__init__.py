"""gridwatch: shared contracts, the MQTT seam and the one `gridwatch` command line."""

__version__ = "0.1.0"
