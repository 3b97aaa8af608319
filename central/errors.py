"""Exception root of the hub: each error names the subject, the value and what was expected.

HubError
 +-- NotFound            a case, device, user or file does not exist        (HTTP 404)
 +-- Conflict            a duplicate id or an invalid state transition      (HTTP 409)
 +-- Forbidden           the caller's role or identity may not do this      (HTTP 403)
 +-- Invalid             a well-formed request with an unacceptable value   (HTTP 422 / 400 / 413)
 +-- IngestRejected      an alert the hub refuses (reason is counted)       (HTTP per reason)
"""

from __future__ import annotations


class HubError(Exception):
    """Root of every error raised by the central hub."""

    status_code = 500


class NotFound(HubError):
    status_code = 404


class Conflict(HubError):
    status_code = 409


class Forbidden(HubError):
    status_code = 403


class Invalid(HubError):
    status_code = 422

    def __init__(self, message: str, status_code: int = 422) -> None:
        super().__init__(message)
        self.status_code = status_code


class IngestRejected(HubError):
    """An event refused at ingest; ``reason`` is a short label used as the metrics counter label."""

    def __init__(self, reason: str, message: str, status_code: int = 422) -> None:
        super().__init__(message)
        self.reason = reason
        self.status_code = status_code
