"""Exception root of the edge package; each failure names the camera, file or message it concerns.

Configuration errors are the kernel's ``ConfigError`` (the camera-config schema lives there) and model errors
the models package's ``ModelError``: one class per concept, whoever raises it."""


class EdgeError(Exception):
    """Root of every error raised by the edge worker."""


class SourceError(EdgeError):
    """A camera source could not be opened or returned unusable data."""
