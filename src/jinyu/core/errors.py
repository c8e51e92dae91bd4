"""One error hierarchy. The API renders these as application/problem+json; the CLI prints them and exits 1.

Each error carries a stable `code`, an HTTP-like `status`, a bilingual title and optional field errors.
Services raise these, never HTTP exceptions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


@dataclass
class JinyuError(Exception):
    detail: str = ""
    fields: list[FieldError] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"
    title: ClassVar[str] = "请求有误 / Bad request"

    def __str__(self) -> str:
        parts = [self.title]
        if self.detail:
            parts.append(self.detail)
        parts.extend(f"{f.field}: {f.message}" for f in self.fields)
        return " — ".join(parts)

    def headers(self) -> dict[str, str]:
        """HTTP headers of the answer: `Retry-After` when the error says how long to wait (`retry_after`)."""
        wait = self.extra.get("retry_after")
        return {"Retry-After": str(wait)} if isinstance(wait, int) else {}

    def problem(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": f"urn:jinyu:problem:{self.code}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail or self.title,
            "code": self.code,
        }
        if instance:
            body["instance"] = instance
        if self.fields:
            body["errors"] = [{"field": f.field, "message": f.message} for f in self.fields]
        body.update(self.extra)
        return body


class InvalidInput(JinyuError):
    status = 422
    code = "invalid_input"
    title = "输入无效 / Invalid input"


class NotAuthenticated(JinyuError):
    status = 401
    code = "not_authenticated"
    title = "未认证 / Not authenticated"


class PermissionDenied(JinyuError):
    status = 403
    code = "permission_denied"
    title = "无权限 / Permission denied"


class NotFound(JinyuError):
    status = 404
    code = "not_found"
    title = "未找到 / Not found"


class Conflict(JinyuError):
    status = 409
    code = "conflict"
    title = "冲突 / Conflict"


class TooManyRequests(JinyuError):
    status = 429
    code = "too_many_requests"
    title = "请求过多 / Too many requests"


class DatabaseUnavailable(JinyuError):
    """The operational store could not be reached, or the connection to it was lost (a failover, a server
    restart, a terminated backend). Nothing is known to be committed unless the retry finds it: writes are
    idempotent by their message ids, so the caller retries the same request."""

    status = 503
    code = "database_unavailable"
    title = "数据库暂不可用 / Database unavailable"

    def headers(self) -> dict[str, str]:
        return {"Retry-After": "1"} | super().headers()  # a failover takes seconds: try again soon


def invalid(field_name: str, message: str) -> InvalidInput:
    """Shorthand for a one-field validation error."""
    return InvalidInput(detail=f"{field_name}: {message}", fields=[FieldError(field_name, message)])
