"""Domain errors: what services raise, and what views and the API turn into messages.

Every error has a stable ``code`` (``<domain>.<reason>``), a Chinese ``message`` for the person
in front of the screen, and ``details`` (field → message, row numbers, …) for forms and clients.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    status = 400
    code = "invalid"

    def __init__(self, message: str, *, code: str | None = None, details: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.details = details or {}

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "details": self.details}


class ValidationFailed(DomainError):
    """Input is wrong; ``details`` maps field names to messages."""

    status = 422
    code = "validation_error"


class PermissionDeniedError(DomainError):
    status = 403
    code = "permission_denied"

    def __init__(self, message: str = "您没有执行此操作的权限。", **kwargs: Any):
        super().__init__(message, **kwargs)


class NotFoundError(DomainError):
    status = 404
    code = "not_found"

    def __init__(self, message: str = "对象不存在或您无权查看。", **kwargs: Any):
        super().__init__(message, **kwargs)


class ConflictError(DomainError):
    """The object changed under the caller (a duplicate, a concurrent decision)."""

    status = 409
    code = "conflict"
