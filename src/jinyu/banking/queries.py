"""Named analytics queries of the banking domain, registered in jinyu.analytics' registry."""

from __future__ import annotations

from jinyu.analytics import Engine, NonNegativeInt, Query, register

ACCOUNTS_OF_BANK_SUBTREE = register(
    Query(
        name="accounts_of_bank_subtree",
        sql="""
-- Accounts opened at one bank node (head office, branch or outlet) or anywhere below it, by account_no.
WITH node AS (
    SELECT org_code FROM banks WHERE org_code = $root_code
),
child AS (
    SELECT org_code FROM banks WHERE parent_code IN (SELECT org_code FROM node)
),
grandchild AS (
    SELECT org_code FROM banks WHERE parent_code IN (SELECT org_code FROM child)
),
tree AS (
    SELECT org_code FROM node
    UNION ALL
    SELECT org_code FROM child
    UNION ALL
    SELECT org_code FROM grandchild
)
SELECT
    a.account_no, a.bank_code, a.owner_type, a.owner_id, a.owner_name, a.category, a.opened_on, a.currency,
    count(*) OVER () AS total
FROM accounts AS a
WHERE a.bank_code IN (SELECT org_code FROM tree)
ORDER BY a.account_no
LIMIT $limit OFFSET $offset
""",
        params={"root_code": str, "limit": NonNegativeInt, "offset": NonNegativeInt},
        description="某银行机构及其下级开立的账户 / accounts opened at a bank node or below it, by account_no",
    )
)

ACCOUNTS_OF_OWNER_PAGED = register(
    Query(
        name="accounts_of_owner_paged",
        sql="""
SELECT
    account_no, bank_code, owner_type, owner_id, owner_name, category, opened_on, currency,
    count(*) OVER () AS total
FROM accounts
WHERE owner_id = $owner_id
ORDER BY account_no
LIMIT $limit OFFSET $offset
""",
        params={"owner_id": str, "limit": NonNegativeInt, "offset": NonNegativeInt},
        description="某户主的账户及总数 / one owner's accounts with the total count, by account_no",
    )
)


def accounts_below(engine: Engine, root_code: str, limit: int, offset: int) -> list[dict[str, object]]:
    return list(
        engine.run("accounts_of_bank_subtree", root_code=root_code, limit=limit, offset=offset).to_pylist()
    )


def accounts_owned_by(engine: Engine, owner_id: str, limit: int, offset: int) -> list[dict[str, object]]:
    rows = engine.run("accounts_of_owner_paged", owner_id=owner_id, limit=limit, offset=offset)
    return list(rows.to_pylist())
