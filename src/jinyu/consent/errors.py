"""Consent errors, named as facts."""

from __future__ import annotations

from jinyu.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied


class GrantNotFound(NotFound):
    code = "grant_not_found"
    title = "授权不存在 / Grant not found"


class ConsentMissing(PermissionDenied):
    code = "consent_missing"
    title = "缺少企业有效授权 / No valid authorization from the enterprise"


class GrantAlreadyRevoked(Conflict):
    code = "grant_already_revoked"
    title = "授权已撤销 / Grant already revoked"


class InvalidGrant(InvalidInput):
    code = "invalid_grant"
    title = "授权内容无效 / Invalid grant"
