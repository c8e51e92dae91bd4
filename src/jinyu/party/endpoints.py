"""HTTP handlers of the party domain: thin — declare the permission, call one service function."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, status
from fastapi.security import OAuth2PasswordRequestForm

from jinyu.core.auth import OrgKind, Perm, Principal
from jinyu.core.pagination import Limit, Offset, Page
from jinyu.core.web import SessionDep, require
from jinyu.party import service
from jinyu.party.rules import RegistrationState
from jinyu.party.schemas import (
    Me,
    OrgCreate,
    OrgOut,
    PasswordChange,
    PasswordSet,
    RegistrationDecision,
    RegistrationOut,
    RegistrationSubmit,
    Revocation,
    ServiceAccountCreate,
    ServiceAccountOut,
    Suspension,
    TokenOut,
    UserCreate,
    UserOut,
)

router = APIRouter(tags=["party 机构与用户"])


@router.post("/auth/token", response_model=TokenOut, tags=["auth 认证"])
def issue_token(
    request: Request, session: SessionDep, form: Annotated[OAuth2PasswordRequestForm, Depends()]
) -> TokenOut:
    """OAuth2 password grant: 用户名+密码换取访问令牌 / exchange username and password for a bearer token."""
    return service.login(
        session,
        request.app.state.sessionmaker,
        form.username,
        form.password,
        request.app.state.settings,
        client_address=request.client.host if request.client else None,
    )


@router.get("/me", response_model=Me)
def whoami(session: SessionDep, principal: Principal = require(Perm.ORG_READ)) -> Me:
    """当前身份、机构、角色与权限 / the caller's identity, organisation, roles and permissions."""
    return service.me(session, principal)


@router.get("/orgs", response_model=Page[OrgOut])
def list_orgs(
    session: SessionDep,
    principal: Principal = require(Perm.ORG_READ),
    kind: OrgKind | None = None,
    q: str | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[OrgOut]:
    """机构列表（限于调用方可见范围）/ organisations the caller may see."""
    return service.list_orgs(session, principal, kind.value if kind else None, q, limit, offset)


@router.get("/orgs/{org_id}", response_model=OrgOut)
def get_org(org_id: str, session: SessionDep, principal: Principal = require(Perm.ORG_READ)) -> OrgOut:
    return service.get_org(session, principal, org_id)


@router.post("/orgs", response_model=OrgOut, status_code=status.HTTP_201_CREATED)
def create_org(
    data: OrgCreate, session: SessionDep, principal: Principal = require(Perm.ORG_MANAGE)
) -> OrgOut:
    return service.create_org(session, principal, data)


@router.get("/users", response_model=Page[UserOut])
def list_users(
    session: SessionDep, principal: Principal = require(Perm.USER_READ), limit: Limit = 50, offset: Offset = 0
) -> Page[UserOut]:
    return service.list_users(session, principal, limit, offset)


@router.post("/users", response_model=UserOut, status_code=status.HTTP_201_CREATED)
def create_user(
    data: UserCreate, session: SessionDep, principal: Principal = require(Perm.USER_MANAGE)
) -> UserOut:
    return service.create_user(session, principal, data)


@router.post("/service-accounts", response_model=ServiceAccountOut, status_code=status.HTTP_201_CREATED)
def create_service_account(
    data: ServiceAccountCreate, session: SessionDep, principal: Principal = require(Perm.USER_MANAGE)
) -> ServiceAccountOut:
    """创建服务账户（医院/银行系统），API key 仅返回一次 / the API key is shown once."""
    return service.create_service_account(session, principal, data)


@router.post("/me/password", response_model=TokenOut, tags=["auth 认证"])
def change_password(
    data: PasswordChange,
    request: Request,
    session: SessionDep,
    principal: Principal = require(Perm.ORG_READ),
) -> TokenOut:
    """修改自己的密码；此前的令牌全部失效，返回新令牌 / change your password: every earlier token stops
    working, a new one is returned."""
    return service.change_own_password(session, principal, data, request.app.state.settings)


@router.post("/me/revoke-tokens", response_model=UserOut, tags=["auth 认证"])
def revoke_my_tokens(
    data: Revocation, session: SessionDep, principal: Principal = require(Perm.ORG_READ)
) -> UserOut:
    """撤销自己的全部令牌（含本令牌）/ revoke all your bearer tokens, this one included."""
    return service.revoke_user_tokens(session, principal, principal.subject_id, data)


@router.patch("/users/{user_id}", response_model=UserOut)
def update_user(
    user_id: str, data: Suspension, session: SessionDep, principal: Principal = require(Perm.USER_MANAGE)
) -> UserOut:
    """停用（令牌立即失效）或恢复用户，须附理由 / suspend (tokens stop working at once) or reactivate a user,
    with a reason."""
    return service.set_user_active(session, principal, user_id, data)


@router.post("/users/{user_id}/revoke-tokens", response_model=UserOut)
def revoke_user_tokens(
    user_id: str, data: Revocation, session: SessionDep, principal: Principal = require(Perm.USER_MANAGE)
) -> UserOut:
    """撤销用户的全部令牌 / revoke every bearer token of a user."""
    return service.revoke_user_tokens(session, principal, user_id, data)


@router.put("/users/{user_id}/password", response_model=UserOut)
def set_user_password(
    user_id: str, data: PasswordSet, session: SessionDep, principal: Principal = require(Perm.USER_MANAGE)
) -> UserOut:
    """管理员重置用户密码，其令牌全部失效 / reset a user's password; their tokens stop working."""
    return service.set_user_password(session, principal, user_id, data)


@router.get("/service-accounts", response_model=Page[ServiceAccountOut])
def list_service_accounts(
    session: SessionDep, principal: Principal = require(Perm.USER_READ), limit: Limit = 50, offset: Offset = 0
) -> Page[ServiceAccountOut]:
    """服务账户列表（不含密钥）/ service accounts the caller may see (never their keys)."""
    return service.list_service_accounts(session, principal, limit, offset)


@router.patch("/service-accounts/{account_id}", response_model=ServiceAccountOut)
def update_service_account(
    account_id: str,
    data: Suspension,
    session: SessionDep,
    principal: Principal = require(Perm.USER_MANAGE),
) -> ServiceAccountOut:
    """停用或恢复服务账户，须附理由 / suspend or reactivate a service account, with a reason."""
    return service.set_service_account_active(session, principal, account_id, data)


@router.post("/service-accounts/{account_id}/revoke-key", response_model=ServiceAccountOut)
def revoke_api_key(
    account_id: str,
    data: Revocation,
    session: SessionDep,
    principal: Principal = require(Perm.USER_MANAGE),
) -> ServiceAccountOut:
    """吊销 API key（轮换前无可用密钥）/ revoke the API key (no key works until a rotation)."""
    return service.revoke_api_key(session, principal, account_id, data)


@router.post("/service-accounts/{account_id}/rotate-key", response_model=ServiceAccountOut)
def rotate_api_key(
    account_id: str,
    data: Revocation,
    session: SessionDep,
    principal: Principal = require(Perm.USER_MANAGE),
) -> ServiceAccountOut:
    """轮换 API key：新密钥仅返回一次，旧密钥立即失效 / rotate the API key: the new key is shown once, the
    old one stops working at once."""
    return service.rotate_api_key(session, principal, account_id, data)


@router.post("/registrations", response_model=RegistrationOut, status_code=status.HTTP_201_CREATED)
def submit_registration(
    data: RegistrationSubmit,
    request: Request,
    session: SessionDep,
    principal: Principal = require(Perm.ENTERPRISE_REGISTER),
) -> RegistrationOut:
    """企业实名注册 / an enterprise administrator registers the enterprise under its real name."""
    key = request.app.state.settings.pseudonym_keys()
    return service.submit_registration(session, principal, data, key)


@router.get("/registrations", response_model=Page[RegistrationOut])
def list_registrations(
    session: SessionDep,
    principal: Principal = require(Perm.ORG_READ),
    state: RegistrationState | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[RegistrationOut]:
    return service.list_registrations(session, principal, state.value if state else None, limit, offset)


@router.get("/registrations/{registration_id}", response_model=RegistrationOut)
def get_registration(
    registration_id: str, session: SessionDep, principal: Principal = require(Perm.ORG_READ)
) -> RegistrationOut:
    return service.get_registration(session, principal, registration_id)


@router.post("/registrations/{registration_id}/decision", response_model=RegistrationOut)
def decide_registration(
    registration_id: str,
    decision: RegistrationDecision,
    session: SessionDep,
    principal: Principal = require(Perm.ENTERPRISE_REVIEW),
) -> RegistrationOut:
    """审核实名注册：核验、驳回、暂停或恢复，须附理由 / verify, reject, suspend or restore, with a reason."""
    return service.decide_registration(session, principal, registration_id, decision)
