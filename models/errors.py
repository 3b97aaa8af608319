"""Exception root of the models package."""


class ModelError(Exception):
    """A model file is missing, unreadable, or not a detector layout we support."""
