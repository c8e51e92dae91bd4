"""Who a `jinyu risk ...` command acts as: a bank user who logs in, or a bank service account.

`--as-user` logs in with the user's password (prompted, or read from stdin with `--password-stdin`);
`--api-key` authenticates a service account. Both go through party exactly as the API does, so the command
sees what that user would see over the API, lockout and audit included.
"""

from __future__ import annotations

import sys

import typer

from jinyu.config import Settings
from jinyu.core.auth import Principal
from jinyu.core.errors import InvalidInput
from jinyu.core.runtime import sessionmaker_for, unit_of_work
from jinyu.party import service as party

AS_USER = typer.Option(
    None, "--as-user", help="以该银行用户身份操作（需密码）/ act as this bank user (password)"
)
API_KEY = typer.Option(None, "--api-key", help="银行服务账号 API key / a bank service account's API key")
PASSWORD_STDIN = typer.Option(
    False, "--password-stdin", help="从标准输入读密码 / read the password from stdin"
)


def acting_principal(
    settings: Settings, as_user: str | None, api_key: str | None, password_stdin: bool
) -> Principal:
    """The bank user or service account the command acts as (committed, so the login is on record even if
    the check itself then fails)."""
    if bool(as_user) == bool(api_key):
        raise InvalidInput(
            detail="请给出 --as-user 或 --api-key 之一 / give exactly one of --as-user, --api-key"
        )
    with unit_of_work(settings) as session:
        if api_key:
            return party.authenticate_api_key(session, api_key)
        assert as_user is not None
        if password_stdin:
            password = sys.stdin.readline().rstrip("\n")
        else:
            password = typer.prompt("密码 / password", hide_input=True)
        token = party.login(session, sessionmaker_for(settings), as_user, password, settings)
        return party.authenticate_token(session, token.access_token, settings)
