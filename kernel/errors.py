"""Exception root of the shared `gridwatch` package (contracts, MQTT seam, CLI, demo)."""


class GridwatchError(Exception):
    """Root of every error raised by the shared `gridwatch` package."""


class ContractError(GridwatchError):
    """A message or topic does not match the contracts in docs/contracts.md."""


class TransportError(GridwatchError):
    """The MQTT broker could not be reached or refused us."""
