"""Who a CLI command acts as: a user who logs in, or a service account with its API key.

`--as-user` logs in with the user's password (prompted, or read from stdin with `--password-stdin`);
`--api-key` authenticates a service account. Both go through the same services as the API, so the command
sees what that user would see over the API, lockout and audit included.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import typer

from jinyu.core.errors import InvalidInput

if TYPE_CHECKING:  # imported when a command runs: the CLI's --help imports this module (issue 19)
    from jinyu.config import Settings
    from jinyu.core.auth import Principal


def acting_principal(
    settings: Settings, as_user: str | None, api_key: str | None, password_stdin: bool
) -> Principal:
    """The user or service account the command acts as (committed, so the login is on record even if the
    command itself then fails)."""
    from jinyu.core.runtime import sessionmaker_for, unit_of_work
    from jinyu.party import service as party

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
        elif not sys.stdin.isatty():
            raise InvalidInput(
                detail="没有终端可询问密码：请用 --password-stdin 从标准输入传入 / no terminal to ask for the "
                f"password: pipe it in with --password-stdin, e.g. printf '%s\\n' \"$PASSWORD\" | jinyu ... "
                f"--as-user {as_user} --password-stdin"
            )
        else:
            password = typer.prompt("密码 / password", hide_input=True)
        token = party.login(session, sessionmaker_for(settings), as_user, password, settings)
        return party.authenticate_token(session, token.access_token, settings)
