"""Who a `jinyu risk ...` command acts as: a bank user who logs in, or a bank service account.

`--as-user` logs in with the user's password (prompted, or read from stdin with `--password-stdin`);
`--api-key` authenticates a service account. Both go through party exactly as the API does, so the command
sees what that user would see over the API, lockout and audit included.
"""

from __future__ import annotations

import typer

from jinyu.party.acting import acting_principal

AS_USER = typer.Option(
    None, "--as-user", help="以该银行用户身份操作（需密码）/ act as this bank user (password)"
)
API_KEY = typer.Option(None, "--api-key", help="银行服务账号 API key / a bank service account's API key")
PASSWORD_STDIN = typer.Option(
    False, "--password-stdin", help="从标准输入读密码 / read the password from stdin"
)

__all__ = ["API_KEY", "AS_USER", "PASSWORD_STDIN", "acting_principal"]
