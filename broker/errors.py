"""Exception root of the broker package."""


class BrokerError(Exception):
    """The broker could not be configured or started; the message says why in one line."""
