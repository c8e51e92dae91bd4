"""Shared pieces of the `jinyu financing` commands: the Typer apps, who a command acts as, common options."""

from __future__ import annotations

import typer

from jinyu.core.auth import SYSTEM, OrgKind, Principal, Role
from jinyu.party.acting import acting_principal

app = typer.Typer(
    help="融资对接工单 / financing work orders: `jinyu financing indicators --group-by outlet --sort overdue`",
    no_args_is_help=True,
)
guidance_app = typer.Typer(help="窗口指导 / window guidance: send, ack, list", no_args_is_help=True)
app.add_typer(guidance_app, name="guidance")

AS_USER = typer.Option(None, "--as-user", help="以该用户身份操作（需密码）/ act as this user (password)")
API_KEY = typer.Option(None, "--api-key", help="服务账号 API key / a service account's API key")
PASSWORD_STDIN = typer.Option(
    False, "--password-stdin", help="从标准输入读密码 / read the password from stdin"
)
JSON = typer.Option(False, "--json", help="输出 JSON / print JSON")
# The operator at the console reading region-wide figures from the lake acts with the regulator's read rights.
REGULATOR_AT_CONSOLE = Principal(
    subject_id="cli:console", username="cli@console", org_id="system", org_kind=OrgKind.REGULATOR,
    tenant_id="system", org_path="/", roles=frozenset({Role.REGULATOR_ANALYST}), is_service=True,
)  # fmt: skip


def _who(as_user: str | None, api_key: str | None, password_stdin: bool) -> Principal:
    if not as_user and not api_key:
        return SYSTEM
    from jinyu.config import get_settings

    return acting_principal(get_settings(), as_user, api_key, password_stdin)
