"""Industrial-chain errors, named as facts."""

from __future__ import annotations

from jinyu.core.errors import NotFound


class ChainNotFound(NotFound):
    code = "chain_not_found"
    title = "产业链不存在 / Chain not found"


class MemberNotFound(NotFound):
    code = "chain_member_not_found"
    title = "该企业不是此产业链成员 / Enterprise is not a member of this chain"
