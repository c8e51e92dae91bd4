"""The error answers of the API, documented once for every operation of the OpenAPI document.

Every API route can answer some problems whatever it does: 413 (a body over its limit, core.asgi), 422 (bad
input), 500 (an unexpected error, with the request id), 503 (the admission queue is full). Routes that need a
credential also answer 401, 403 and 404 (what they name is missing or another tenant's), and their writes
(POST) 409; routes with a body 400 (it cannot be parsed); the login 401 and 429. `document_errors` adds these to
each operation, with the problem+json schema, unless the route declares its own answer for that status
(`responses=` on the route).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

PROBLEM_MEDIA_TYPE = "application/problem+json"


class FieldProblem(BaseModel):
    field: str = Field(description="出错的字段（点分路径）/ the field, as a dotted path")
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details, as every error answer of the API carries them."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(description="urn:jinyu:problem:<code>")
    title: str = Field(description="中文 / English")
    status: int
    detail: str
    code: str | None = Field(default=None, description="稳定的错误码 / stable error code")
    instance: str | None = Field(default=None, description="请求路径 / the request path")
    errors: list[FieldProblem] | None = Field(default=None, description="字段错误 / field errors (422)")
    request_id: str | None = Field(default=None, description="请求编号（500）/ the request id (500)")


ALWAYS = {
    "413": "请求体超过该路由的上限 / the request body is over the route's limit",
    "422": "输入无效，字段错误见 errors / invalid input; field errors in `errors`",
    "500": "意外错误，带请求编号 / unexpected error; carries the request id",
    "503": "服务繁忙或依赖不可用，见 Retry-After / overloaded or a dependency is unavailable; see Retry-After",
}
AUTHENTICATED = {
    "401": "缺少或无效的凭证 / missing or invalid credentials",
    "403": "角色没有所需权限 / the caller's roles lack the permission",
}
WITH_BODY = {
    "400": "请求体无法解析（如非 UTF-8 的 JSON、损坏的 multipart）/ the body could not be parsed",
}
NOT_FOUND = {
    "404": "所指对象（路径、查询或请求体中）不存在或属于其他机构，或数据湖中尚无所需数据 / what the request names"
    " (in its path, query or body) does not exist or is another organisation's, or the lake has no data for it",
}
WRITES = {
    "409": "与现有数据冲突（编码或报文号已用于其他请求、状态不允许）/ conflicts with what exists (a code or message id"
    " already used for another request, a state that does not allow it)",
}
UNAUTHENTICATED = {
    "401": "用户名或密码错误 / wrong username or password",
    "429": "登录失败次数过多，账户暂时锁定 / too many failed logins: the account is locked for a while",
}


def document_errors(schema: dict[str, Any], public: set[tuple[str, str]], prefix: str) -> dict[str, Any]:
    """Add the common error answers to every operation under `prefix` (in place; returns `schema`).

    `public`: the (method, path) of the operations that need no credential; all others answer 401 and 403."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for model in (FieldProblem, Problem):
        components[model.__name__] = model.model_json_schema(ref_template="#/components/schemas/{model}")
    reference = {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for path, operations in schema.get("paths", {}).items():
        if not path.startswith(prefix):
            continue
        for method, operation in operations.items():
            answers = dict(ALWAYS)
            if (method, path) in public:
                answers.update(UNAUTHENTICATED)
            else:
                answers.update(AUTHENTICATED | NOT_FOUND)
            if "requestBody" in operation:
                answers.update(WITH_BODY)
            if method == "post" and (method, path) not in public:
                answers.update(WRITES)
            responses = operation.setdefault("responses", {})
            if "422" in responses and "HTTPValidationError" in str(responses["422"]):
                del responses["422"]  # the framework's own shape; ours is a problem document
            for status, description in answers.items():
                responses.setdefault(status, {"description": description, "content": reference})
            operation["responses"] = dict(sorted(responses.items()))
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)
    return schema
