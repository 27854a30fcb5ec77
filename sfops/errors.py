"""Error types with user-facing messages and the exit codes the CLI returns.

Exit codes mirror the Salesforce CLI: 0 ok, 1 failed, 2 usage, 68 partial success,
69 still running. Every expected failure is an `SfopsError`; the CLI prints its message
(no traceback unless --debug) and exits with its code.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any


class ExitCode(IntEnum):
    """Process exit codes, as `sf` uses them."""

    OK = 0
    FAILED = 1
    USAGE = 2
    PARTIAL = 68
    STILL_RUNNING = 69


class SfopsError(Exception):
    """Base of every expected error; `message` is what the user sees."""

    exit_code: ExitCode = ExitCode.FAILED

    def __init__(self, message: str, *, actions: list[str] | None = None, data: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.actions = actions or []
        self.data = data

    @property
    def name(self) -> str:
        return type(self).__name__

    def to_json(self) -> dict[str, Any]:
        """The error envelope printed with --json."""
        body: dict[str, Any] = {
            "status": int(self.exit_code),
            "name": self.name,
            "message": self.message,
            "exitCode": int(self.exit_code),
        }
        if self.actions:
            body["actions"] = self.actions
        if self.data is not None:
            body["data"] = self.data
        return body


class UsageError(SfopsError):
    """The user asked for something that cannot be (bad value, unknown name)."""

    exit_code = ExitCode.USAGE


class ConfigError(SfopsError):
    """Configuration is missing or inconsistent."""

    exit_code = ExitCode.USAGE


class AuthError(SfopsError):
    """Authentication with the org failed."""


class SalesforceError(SfopsError):
    """An error answered by Salesforce; keeps its errorCode and HTTP status."""

    def __init__(
        self,
        message: str,
        *,
        error_code: str = "UNKNOWN",
        status: int | None = None,
        fields: list[str] | None = None,
        url: str | None = None,
        errors: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(message)
        self.error_code = error_code
        self.status = status
        self.fields = fields or []
        self.url = url
        self.errors = errors or []

    def to_json(self) -> dict[str, Any]:
        body = super().to_json()
        body["code"] = self.error_code
        if self.status is not None:
            body["httpStatus"] = self.status
        return body


class SessionExpiredError(SalesforceError):
    """INVALID_SESSION_ID that survived re-authentication."""


class RequestLimitExceededError(SalesforceError):
    """The org's daily API quota is used up (REQUEST_LIMIT_EXCEEDED); never retried."""


class RecordLockedError(SalesforceError):
    """UNABLE_TO_LOCK_ROW: another transaction holds the record."""


class NotFoundError(SalesforceError):
    """The record or resource does not exist."""


class TransientError(SalesforceError):
    """A 5xx / connection problem that persisted after retries."""


class PartialSuccess(SfopsError):
    """Some of the work succeeded; the result says which."""

    exit_code = ExitCode.PARTIAL


class StillRunning(SfopsError):
    """A long job (deploy, pull) is still running; resume or report later."""

    exit_code = ExitCode.STILL_RUNNING


class Aborted(SfopsError):
    """The user declined a confirmation."""
