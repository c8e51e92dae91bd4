"""`jinyu orgs` and `jinyu users`: operator commands at the console (acting as the system principal)."""

from __future__ import annotations

import typer
from pydantic import SecretStr

from jinyu.core.auth import SYSTEM, OrgKind, Role
from jinyu.core.cli_kit import console, handle_errors, print_json, print_table
from jinyu.core.runtime import unit_of_work
from jinyu.party import service
from jinyu.party.schemas import OrgCreate, ServiceAccountCreate, UserCreate

orgs_app = typer.Typer(
    help="机构 / organisations: `jinyu orgs list --kind bank_head_office`", no_args_is_help=True
)
users_app = typer.Typer(help="用户与服务账户 / users and service accounts", no_args_is_help=True)


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
    with unit_of_work() as session:
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
    with unit_of_work() as session:
        org = service.create_org(
            session,
            SYSTEM,
            OrgCreate(kind=kind, code=code, name=name, parent_code=parent_code, district_code=district_code),
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
    data = UserCreate(
        username=username,
        display_name=display_name or username,
        org_id=org_id,
        roles=role,
        password=SecretStr(password),
    )
    with unit_of_work() as session:
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
    with unit_of_work() as session:
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
    with unit_of_work() as session:
        account = service.create_service_account(
            session, SYSTEM, ServiceAccountCreate(name=name, org_id=org_id, roles=role)
        )
    print_json(account) if json_out else console.print(
        f"API key (仅显示一次 / shown once): {account.api_key}"
    )
