"""The related-party part of the tracing context queries (`queries.tracing_context_*`): per loan, every owner
related to the borrower with the rank of its strongest relation and where that relation came from.

Kept apart from `queries` because it is the part that grows with each new kind of relation (derived,
declared, control chains); `queries` composes it into the context statements unchanged."""

from __future__ import annotations

import pyarrow as pa

from jinyu.analytics.layout import PARTITION_COLUMN
from jinyu.governance.contracts import CONTRACTS
from jinyu.ingest.pipeline import arrow_schema
from jinyu.risk.tracing.rules import CONTROL_SHARE, LINKED_RELATIONS, RELATIONS

# Related parties per loan: (owner, relation rank). Ranks follow `rules.RELATIONS`; a party with several
# relations keeps its strongest (lowest) rank when accounts are classified.
RANK = {name: rank for rank, (name, _zh, _en) in enumerate(RELATIONS, start=1)}
_D = "'derived:enterprises'"
_S = "'derived:shareholders'"
_G = "'derived:loan_guarantees'"
# Control through chains of holdings of at least CONTROL_SHARE percent: the borrower's controllers two and
# three levels up, the companies it controls two and three levels down, and the companies its controllers (any
# level) hold directly at the threshold. One level up or down is already `shareholder` / `invested`.
_C = f"s.share_ratio >= {CONTROL_SHARE}"
RELATED = f"""
borrower AS (
    SELECT l.loan_id, e.uscc, e.legal_rep_id, e.address, e.phone,
           CAST(l.disbursed_at + INTERVAL 8 HOUR AS DATE) AS on_day
    FROM loan AS l
    JOIN enterprises AS e ON e.uscc = l.borrower_uscc
),
up1 AS (
    SELECT b.loan_id, s.holder_id AS id FROM borrower AS b JOIN shareholders AS s ON s.uscc = b.uscc AND {_C}
),
up2 AS (
    SELECT u.loan_id, s.holder_id AS id FROM up1 AS u JOIN shareholders AS s ON s.uscc = u.id AND {_C}
),
up3 AS (
    SELECT u.loan_id, s.holder_id AS id FROM up2 AS u JOIN shareholders AS s ON s.uscc = u.id AND {_C}
),
down1 AS (
    SELECT b.loan_id, s.uscc AS id FROM borrower AS b JOIN shareholders AS s ON s.holder_id = b.uscc AND {_C}
),
down2 AS (
    SELECT d.loan_id, s.uscc AS id FROM down1 AS d JOIN shareholders AS s ON s.holder_id = d.id AND {_C}
),
controllers AS (
    SELECT loan_id, id FROM up1
    UNION ALL
    SELECT loan_id, id FROM up2
    UNION ALL
    SELECT loan_id, id FROM up3
),
declared AS (
    SELECT b.loan_id, r.related_id AS owner_id, r.relation, r.source
    FROM borrower AS b
    JOIN related_parties AS r ON r.owner_uscc = b.uscc
    WHERE r.valid_from <= b.on_day AND (r.valid_to IS NULL OR r.valid_to >= b.on_day)
      AND (r.bank_code IS NULL OR r.bank_code IN (SELECT org_code FROM tree))
    UNION ALL
    SELECT b.loan_id, r.owner_uscc, r.relation, r.source
    FROM borrower AS b
    JOIN related_parties AS r ON r.related_id = b.uscc
    WHERE r.valid_from <= b.on_day AND (r.valid_to IS NULL OR r.valid_to >= b.on_day)
      AND (r.bank_code IS NULL OR r.bank_code IN (SELECT org_code FROM tree))
),
rel_owner AS (
    SELECT loan_id, uscc AS owner_id, {RANK["own"]} AS rel_rank, {_D} AS rel_source FROM borrower
    UNION ALL
    SELECT loan_id, legal_rep_id, {RANK["legal_rep"]}, {_D} FROM borrower
    UNION ALL
    SELECT b.loan_id, s.holder_id, {RANK["shareholder"]}, {_S}
    FROM borrower AS b JOIN shareholders AS s ON s.uscc = b.uscc
    UNION ALL
    SELECT b.loan_id, s.uscc, {RANK["invested"]}, {_S}
    FROM borrower AS b JOIN shareholders AS s ON s.holder_id = b.uscc
    UNION ALL
    SELECT b.loan_id, e.uscc, {RANK["same_legal_rep"]}, {_D}
    FROM borrower AS b JOIN enterprises AS e ON e.legal_rep_id = b.legal_rep_id AND e.uscc <> b.uscc
    UNION ALL
    SELECT b.loan_id, s.uscc, {RANK["rep_invested"]}, {_S}
    FROM borrower AS b JOIN shareholders AS s ON s.holder_id = b.legal_rep_id AND s.uscc <> b.uscc
    UNION ALL
    SELECT b.loan_id, s2.uscc, {RANK["sister"]}, {_S}
    FROM borrower AS b
    JOIN shareholders AS s1 ON s1.uscc = b.uscc AND s1.holder_type = 'enterprise'
    JOIN shareholders AS s2 ON s2.holder_id = s1.holder_id AND s2.uscc <> b.uscc
    UNION ALL
    SELECT b.loan_id, e.uscc, {RANK["shared_address"]}, {_D}
    FROM borrower AS b JOIN enterprises AS e ON e.address = b.address AND e.uscc <> b.uscc
    UNION ALL
    SELECT b.loan_id, e.uscc, {RANK["shared_phone"]}, {_D}
    FROM borrower AS b JOIN enterprises AS e ON e.phone = b.phone AND e.uscc <> b.uscc
    UNION ALL
    SELECT l.loan_id, g.guarantor_id, {RANK["guarantor"]}, {_G}
    FROM loan AS l JOIN loan_guarantees AS g ON g.loan_id = l.loan_id
    UNION ALL
    SELECT loan_id, owner_id, {RANK["declared"]}, 'declared:' || relation || ':' || source FROM declared
    UNION ALL
    SELECT loan_id, id, {RANK["control_chain"]}, {_S} FROM up2
    UNION ALL
    SELECT loan_id, id, {RANK["control_chain"]}, {_S} FROM up3
    UNION ALL
    SELECT loan_id, id, {RANK["control_chain"]}, {_S} FROM down2
    UNION ALL
    SELECT d.loan_id, s.uscc, {RANK["control_chain"]}, {_S}
    FROM down2 AS d JOIN shareholders AS s ON s.holder_id = d.id AND {_C}
    UNION ALL
    SELECT c.loan_id, s.uscc, {RANK["control_chain"]}, {_S}
    FROM controllers AS c JOIN shareholders AS s ON s.holder_id = c.id AND {_C}
    JOIN borrower AS b ON b.loan_id = c.loan_id AND s.uscc <> b.uscc
)"""
# A guarantor's id is a USCC or, for a person, the same keyed token as `enterprises.legal_rep_id` and a
# person's `accounts.owner_id`: one join finds both kinds' accounts. Lakes loaded before the hub took
# guarantees have no `loan_guarantees` files: the engines read it as an empty table of this schema.
OPTIONAL = {
    "loan_guarantees": arrow_schema(CONTRACTS["loan_guarantees"]).append(
        pa.field(PARTITION_COLUMN, pa.string())
    ),
    # Declared related parties came to the hub later still; not partitioned.
    "related_parties": arrow_schema(CONTRACTS["related_parties"]),
}

LINKED_RANKS = ", ".join(str(RANK[r]) for r in LINKED_RELATIONS)
