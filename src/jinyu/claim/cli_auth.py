"""Who a `jinyu claim ...` command acts as: the same credentials as every other command that acts for someone
(`--as-user` with the user's password, or `--api-key` of a service account such as a hospital's system). The
login is the API's (lockout, audit), and the services check roles and tenants as they do for the API.

The demo's users (`make demo`, passwords in var/credentials.json): `insurer` (insurer staff), `hospital` (the
hospital's system; its service account `svc:his` has an API key), `analyst` (the regulator's reports).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from jinyu.core import lazy
from jinyu.core.auth import Principal
from jinyu.party.acting import acting_principal

if TYPE_CHECKING:  # imported when a command runs (jinyu.core.lazy): --help stays fast
    from jinyu import config
else:
    config = lazy.module("jinyu.config")

AS_USER = typer.Option(
    None,
    "--as-user",
    help="以该用户身份操作（需密码），如 insurer、hospital、analyst / act as this user (password)",
)
API_KEY = typer.Option(
    None, "--api-key", help="服务账号 API key（如医院系统 svc:his）/ a service account's API key"
)
PASSWORD_STDIN = typer.Option(
    False, "--password-stdin", help="从标准输入读密码 / read the password from stdin"
)
JsonOpt = typer.Option(False, "--json", help="输出 JSON / print JSON")


def who(as_user: str | None, api_key: str | None, password_stdin: bool) -> Principal:
    """The caller, logged in (committed on its own, so the login is on record even if the command fails)."""
    return acting_principal(config.get_settings(), as_user, api_key, password_stdin)
