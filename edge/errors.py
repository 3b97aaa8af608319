"""Exception root of the edge package; each failure names the camera, file or message it concerns."""


class EdgeError(Exception):
    """Root of every error raised by the edge worker."""


class ConfigError(EdgeError):
    """A camera, gateway or sensor configuration file is invalid (message names the file and field)."""


class ModelError(EdgeError):
    """A model file is missing, unreadable, or not a detector layout we support."""


class SourceError(EdgeError):
    """A camera source could not be opened or returned unusable data."""
