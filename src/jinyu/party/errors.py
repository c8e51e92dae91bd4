"""Party-domain errors, named as facts."""

from __future__ import annotations

from jinyu.core.errors import Conflict, InvalidInput, NotAuthenticated, NotFound, TooManyRequests


class OrganisationNotFound(NotFound):
    code = "organisation_not_found"
    title = "机构不存在 / Organisation not found"


class UserNotFound(NotFound):
    code = "user_not_found"
    title = "用户不存在 / User not found"


class UsernameTaken(Conflict):
    code = "username_taken"
    title = "用户名已被使用 / Username already taken"


class OrganisationCodeTaken(Conflict):
    code = "organisation_code_taken"
    title = "机构编码已存在 / Organisation code already exists"


class RoleNotAllowedForOrganisation(InvalidInput):
    code = "role_not_allowed"
    title = "该角色不能授予此类机构的用户 / Role not allowed for this kind of organisation"


class BadCredentials(NotAuthenticated):
    code = "bad_credentials"
    title = "用户名或密码错误 / Wrong username or password"


class AccountLocked(TooManyRequests):
    """Answered alike whether or not the username exists (failures are counted for unknown names too)."""

    code = "account_locked"
    title = "登录失败次数过多，账户已临时锁定 / Too many failed logins: account temporarily locked"


class LoginThrottled(TooManyRequests):
    code = "login_throttled"
    title = "此地址登录失败次数过多，请稍后再试 / Too many failed logins from this address: try again later"


class ServiceAccountNotFound(NotFound):
    code = "service_account_not_found"
    title = "服务账户不存在 / Service account not found"


class WrongPassword(InvalidInput):
    code = "wrong_password"
    title = "当前密码不正确 / Current password is wrong"


class CannotSuspendSelf(Conflict):
    code = "cannot_suspend_self"
    title = "不能停用自己的账户 / You cannot suspend your own account"


class InvalidToken(NotAuthenticated):
    code = "invalid_token"
    title = "凭证无效或已过期 / Invalid or expired credential"


class RegistrationExists(Conflict):
    code = "registration_exists"
    title = "该企业已实名注册 / Enterprise already registered"


class RegistrationStateInvalid(Conflict):
    code = "registration_state_invalid"
    title = "实名注册状态不允许此操作 / Registration state does not allow this"


class WeakPassword(InvalidInput):
    code = "weak_password"
    title = "密码强度不足 / Password too weak"


class RegistrationNotFound(NotFound):
    code = "registration_not_found"
    title = "实名注册记录不存在 / Registration not found"
