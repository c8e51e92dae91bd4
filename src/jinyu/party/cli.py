"""`jinyu orgs` and `jinyu users`: operator commands at the console (acting as the system principal)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from jinyu.core import lazy
from jinyu.core.auth import SYSTEM, OrgKind, Role
from jinyu.core.cli_kit import console, handle_errors, print_json, print_table

if TYPE_CHECKING:  # imported when a command runs (jinyu.core.lazy): --help stays fast
    from jinyu.core import runtime
    from jinyu.party import schemas, service
else:
    runtime = lazy.module("jinyu.core.runtime")
    schemas = lazy.module("jinyu.party.schemas")
    service = lazy.module("jinyu.party.service")

orgs_app = typer.Typer(
    help="机构 / organisations: `jinyu orgs list --kind bank_head_office`", no_args_is_help=True
)
users_app = typer.Typer(
    help="用户与服务账户 / users and service accounts: `jinyu users suspend li.si --reason 离职`",
    no_args_is_help=True,
)


@orgs_app.command("list")
@handle_errors
def list_orgs(
    kind: OrgKind | None = typer.Option(None, help="机构类别 / organisation kind"),
    q: str | None = typer.Option(None, help="名称包含或编码等于 / name contains or code equals"),
    limit: int = typer.Option(50, min=1, max=500),
    offset: int = typer.Option(0, min=0),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """列出机构 / list organisations. Example: jinyu orgs list --kind enterprise --q 显示 --json"""
    with runtime.unit_of_work() as session:
        page = service.list_orgs(session, SYSTEM, kind.value if kind else None, q, limit, offset)
    if json_out:
        print_json(page)
        return
    print_table(
        f"机构 / organisations ({page.total})",
        ["id", "kind", "code", "name"],
        [[o.id, o.kind, o.code, o.name] for o in page.items],
    )


@orgs_app.command("create")
@handle_errors
def create_org(
    kind: OrgKind = typer.Option(...),
    code: str = typer.Option(...),
    name: str = typer.Option(...),
    parent_code: str | None = typer.Option(None),
    district_code: str | None = typer.Option(None),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """创建机构 / create an organisation. Example: jinyu orgs create --kind regulator --code REG --name 监管局"""
    with runtime.unit_of_work() as session:
        org = service.create_org(
            session,
            SYSTEM,
            schemas.OrgCreate(
                kind=kind, code=code, name=name, parent_code=parent_code, district_code=district_code
            ),
        )
    print_json(org) if json_out else console.print(f"created {org.kind} {org.code} id={org.id}")


@users_app.command("create")
@handle_errors
def create_user(
    username: str = typer.Option(...),
    org_id: str = typer.Option(..., help="机构 id / org id"),
    role: list[Role] = typer.Option(..., help="角色，可多次 / role, repeatable"),
    display_name: str | None = typer.Option(None),
    password: str = typer.Option(..., prompt=True, hide_input=True, confirmation_prompt=True),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """创建用户 / create a user. Example: jinyu users create --username li --org-id ID --role bank_hq_risk"""
    import pydantic

    data = schemas.UserCreate(
        username=username,
        display_name=display_name or username,
        org_id=org_id,
        roles=role,
        password=pydantic.SecretStr(password),
    )
    with runtime.unit_of_work() as session:
        user = service.create_user(session, SYSTEM, data)
    print_json(user) if json_out else console.print(f"created user {user.username} id={user.id}")


@users_app.command("list")
@handle_errors
def list_users(
    limit: int = typer.Option(50, min=1, max=500),
    offset: int = typer.Option(0, min=0),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """列出用户 / list users. Example: jinyu users list --json"""
    with runtime.unit_of_work() as session:
        page = service.list_users(session, SYSTEM, limit, offset)
    if json_out:
        print_json(page)
        return
    print_table(
        f"用户 / users ({page.total})",
        ["username", "org", "roles", "active"],
        [[u.username, u.org_id, ",".join(u.roles), u.active] for u in page.items],
    )


@users_app.command("service-account")
@handle_errors
def create_service_account(
    name: str = typer.Option(...),
    org_id: str = typer.Option(...),
    role: list[Role] = typer.Option(...),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """创建服务账户并显示一次 API key / create a service account; prints its API key once.

    Example: jinyu users service-account --name his --org-id ID --role hospital_system
    """
    with runtime.unit_of_work() as session:
        account = service.create_service_account(
            session, SYSTEM, schemas.ServiceAccountCreate(name=name, org_id=org_id, roles=role)
        )
    print_json(account) if json_out else console.print(
        f"API key (仅显示一次 / shown once): {account.api_key}"
    )


Reason = typer.Option(..., "--reason", help="理由，记入审计 / reason, audited")


def _print_user(user: schemas.UserOut, json_out: bool, what: str) -> None:
    if json_out:
        print_json(user)
    else:
        console.print(f"{what}: {user.username} id={user.id} active={user.active}")


@users_app.command("suspend")
@handle_errors
def suspend_user(
    username: str = typer.Argument(..., help="用户名 / username"),
    reason: str = Reason,
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """停用用户，其令牌立即失效 / suspend a user: every token stops working at once.

    Example: jinyu users suspend li.si --reason "离职 / left the bank" --json
    """
    with runtime.unit_of_work() as session:
        user_id = service.user_id_for(session, SYSTEM, username)
        user = service.set_user_active(
            session, SYSTEM, user_id, schemas.Suspension(active=False, reason=reason)
        )
    _print_user(user, json_out, "suspended / 已停用")


@users_app.command("reactivate")
@handle_errors
def reactivate_user(
    username: str = typer.Argument(..., help="用户名 / username"),
    reason: str = Reason,
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """恢复已停用的用户 / reactivate a suspended user (they log in again).

    Example: jinyu users reactivate li.si --reason "复职 / back from leave"
    """
    with runtime.unit_of_work() as session:
        user_id = service.user_id_for(session, SYSTEM, username)
        user = service.set_user_active(
            session, SYSTEM, user_id, schemas.Suspension(active=True, reason=reason)
        )
    _print_user(user, json_out, "reactivated / 已恢复")


@users_app.command("revoke-tokens")
@handle_errors
def revoke_tokens(
    username: str = typer.Argument(..., help="用户名 / username"),
    reason: str = Reason,
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """撤销用户已签发的全部令牌 / revoke every bearer token issued to a user so far.

    Example: jinyu users revoke-tokens li.si --reason "设备丢失 / lost laptop"
    """
    with runtime.unit_of_work() as session:
        user_id = service.user_id_for(session, SYSTEM, username)
        user = service.revoke_user_tokens(session, SYSTEM, user_id, schemas.Revocation(reason=reason))
    _print_user(user, json_out, "tokens revoked / 令牌已撤销")


@users_app.command("set-password")
@handle_errors
def set_password(
    username: str = typer.Argument(..., help="用户名 / username"),
    reason: str = Reason,
    password: str = typer.Option(..., prompt=True, hide_input=True, confirmation_prompt=True),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """重置用户密码，其令牌全部失效 / reset a user's password; their tokens stop working.

    Example: jinyu users set-password li.si --reason "忘记密码 / forgotten"
    """
    import pydantic

    with runtime.unit_of_work() as session:
        user_id = service.user_id_for(session, SYSTEM, username)
        data = schemas.PasswordSet(password=pydantic.SecretStr(password), reason=reason)
        user = service.set_user_password(session, SYSTEM, user_id, data)
    _print_user(user, json_out, "password set / 密码已重置")


keys_app = typer.Typer(
    help="服务账户及其 API key / service accounts and their API keys: `jinyu users keys list`",
    no_args_is_help=True,
)
users_app.add_typer(keys_app, name="keys")


def _print_account(account: schemas.ServiceAccountOut, json_out: bool, what: str) -> None:
    if json_out:
        print_json(account)
        return
    console.print(f"{what}: {account.name} id={account.id} active={account.active} key={account.key_prefix}")
    if account.api_key:
        console.print(f"API key (仅显示一次 / shown once): {account.api_key}")


@keys_app.command("list")
@handle_errors
def list_keys(
    limit: int = typer.Option(50, min=1, max=500),
    offset: int = typer.Option(0, min=0),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """列出服务账户（不含密钥）/ list service accounts (never their keys). Example: jinyu users keys list --json"""
    with runtime.unit_of_work() as session:
        page = service.list_service_accounts(session, SYSTEM, limit, offset)
    if json_out:
        print_json(page)
        return
    print_table(
        f"服务账户 / service accounts ({page.total})",
        ["id", "name", "org", "active", "key", "issued", "revoked", "last used"],
        [
            [
                a.id,
                a.name,
                a.org_id,
                a.active,
                a.key_prefix,
                a.key_issued_at,
                a.key_revoked_at,
                a.last_used_at,
            ]
            for a in page.items
        ],
    )


@keys_app.command("rotate")
@handle_errors
def rotate_key(
    account_id: str = typer.Argument(..., help="服务账户 id / service account id"),
    reason: str = Reason,
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """轮换 API key：新密钥仅显示一次，旧密钥立即失效 / rotate the API key: the new key is printed once, the
    old one stops working.

    Example: jinyu users keys rotate ACCOUNT_ID --reason "季度轮换 / quarterly rotation" --json
    """
    with runtime.unit_of_work() as session:
        account = service.rotate_api_key(session, SYSTEM, account_id, schemas.Revocation(reason=reason))
    _print_account(account, json_out, "rotated / 已轮换")


@keys_app.command("revoke")
@handle_errors
def revoke_key(
    account_id: str = typer.Argument(..., help="服务账户 id / service account id"),
    reason: str = Reason,
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """吊销 API key（轮换前无可用密钥）/ revoke the API key (no key works until a rotation).

    Example: jinyu users keys revoke ACCOUNT_ID --reason "密钥泄露 / key leaked"
    """
    with runtime.unit_of_work() as session:
        account = service.revoke_api_key(session, SYSTEM, account_id, schemas.Revocation(reason=reason))
    _print_account(account, json_out, "key revoked / 已吊销")


@keys_app.command("suspend")
@handle_errors
def suspend_account(
    account_id: str = typer.Argument(..., help="服务账户 id / service account id"),
    reason: str = Reason,
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """停用服务账户 / suspend a service account. Example: jinyu users keys suspend ACCOUNT_ID --reason 停用"""
    with runtime.unit_of_work() as session:
        data = schemas.Suspension(active=False, reason=reason)
        account = service.set_service_account_active(session, SYSTEM, account_id, data)
    _print_account(account, json_out, "suspended / 已停用")


@keys_app.command("reactivate")
@handle_errors
def reactivate_account(
    account_id: str = typer.Argument(..., help="服务账户 id / service account id"),
    reason: str = Reason,
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """恢复服务账户 / reactivate a service account. Example: jinyu users keys reactivate ACCOUNT_ID --reason 恢复"""
    with runtime.unit_of_work() as session:
        data = schemas.Suspension(active=True, reason=reason)
        account = service.set_service_account_active(session, SYSTEM, account_id, data)
    _print_account(account, json_out, "reactivated / 已恢复")
