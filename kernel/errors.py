"""Exception root of the kernel (contracts, topics, the MQTT seam, settings, the camera-config schema)."""


class KernelError(Exception):
    """Root of every error raised by the kernel."""


class ContractError(KernelError):
    """A message or topic does not match the contracts in docs/contracts.md."""


class TransportError(KernelError):
    """The MQTT broker could not be reached or refused us."""


class ConfigError(KernelError):
    """A camera, gateway or sensor configuration is invalid (the message names the file and field)."""
