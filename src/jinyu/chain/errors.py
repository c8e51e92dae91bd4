"""Industrial-chain errors, named as facts."""

from __future__ import annotations

from jinyu.core.errors import Conflict, NotFound


class ChainNotFound(NotFound):
    code = "chain_not_found"
    title = "产业链不存在 / Chain not found"


class MemberNotFound(NotFound):
    code = "chain_member_not_found"
    title = "该企业不是此产业链成员 / Enterprise is not a member of this chain"


class StaleDefinition(Conflict):
    code = "chain_definition_stale"
    title = "产业链定义已被他人修改，请重新读取 / The chain definition changed since it was read"
