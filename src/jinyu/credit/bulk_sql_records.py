"""The bulk statements of the registration, judicial and penalty sections (see bulk_sql.py for the shape)."""

from __future__ import annotations

from jinyu.credit.bulk_json import boolean, obj, quoted, text
from jinyu.credit.bulk_sql import count_or_zero, covered, item_rows, statement, value_row
from jinyu.credit.rules import RECENT_ITEMS, SEVERE_PENALTIES

_SEVERE = ", ".join(f"'{p}'" for p in sorted(SEVERE_PENALTIES))


def registration() -> str:
    ctes = [
        covered("registration"),
        """e AS (
  SELECT cov.uscc, x.name, x.status, x.registered_capital, x.established_on, x.industry_code, x.district_code,
    x.address, x.legal_rep_name
  FROM cov JOIN enterprises AS x ON x.uscc = cov.uscc
)""",
        """ch AS (
  SELECT cov.uscc, x.changed_on, x.item, x.before_value, x.after_value, cov.d12, cov.d36,
    ROW_NUMBER() OVER (PARTITION BY cov.uscc ORDER BY x.changed_on DESC, x.item DESC) AS k
  FROM cov JOIN registration_changes AS x ON x.uscc = cov.uscc AND x.changed_on <= cov.a
)""",
        """chn AS (
  SELECT uscc, COUNT(CASE WHEN changed_on > d12 THEN 1 END) AS c12,
    COUNT(CASE WHEN changed_on > d36 THEN 1 END) AS c36,
    COUNT(CASE WHEN changed_on > d36 AND item = 'legal_rep' THEN 1 END) AS lr36
  FROM ch GROUP BY uscc
)""",
        "r AS (SELECT e.*, chn.c12, chn.c36, chn.lr36 FROM e LEFT JOIN chn ON chn.uscc = e.uscc)",
        """sh AS (
  SELECT e.uscc, x.holder_type, x.holder_name, x.share_ratio,
    ROW_NUMBER() OVER (PARTITION BY e.uscc
      ORDER BY x.share_ratio DESC, COALESCE(x.holder_name, '') ASC, COALESCE(x.holder_type, '') ASC) AS k
  FROM e JOIN shareholders AS x ON x.uscc = e.uscc
)""",
    ]
    selects = [
        value_row("r", "name", text("name")),
        value_row("r", "status", text("status")),
        value_row("r", "registered_capital", quoted("registered_capital")),
        value_row("r", "established_on", quoted("established_on")),
        value_row("r", "industry_code", text("industry_code")),
        value_row("r", "district_code", text("district_code")),
        value_row("r", "address", text("address")),
        value_row("r", "legal_rep_name", text("legal_rep_name")),
        value_row("r", "changes_12m", count_or_zero("c12")),
        value_row("r", "changes_36m", count_or_zero("c36")),
        value_row("r", "legal_rep_changes_36m", count_or_zero("lr36")),
        item_rows("sh", "shareholders", "k", obj({"holder_type": text("holder_type"), "name": text("holder_name"),
                                              "share_ratio": quoted("share_ratio")})),
        item_rows("ch", "changes", "k", obj({"changed_on": quoted("changed_on"), "item": text("item"),
                                         "before": text("before_value"), "after": text("after_value")}),
               where=f"k <= {RECENT_ITEMS}"),
    ]  # fmt: skip
    return statement(ctes, selects, ("changes", "shareholders"), "e")


def judicial() -> str:
    ctes = [
        covered("judicial"),
        """cs AS (
  SELECT cov.uscc, x.case_no, x.case_type, x.role, x.filed_on, x.amount, x.status, cov.d36,
    ROW_NUMBER() OVER (PARTITION BY cov.uscc ORDER BY x.filed_on DESC, x.case_no DESC) AS k
  FROM cov JOIN judicial AS x ON x.uscc = cov.uscc AND x.filed_on <= cov.a
)""",
        """dl AS (
  SELECT cov.uscc, x.case_no, x.court, x.amount, x.listed_on, x.removed_on,
    x.removed_on IS NULL OR x.removed_on > cov.a AS listed_now,
    ROW_NUMBER() OVER (PARTITION BY cov.uscc ORDER BY x.listed_on DESC, x.case_no DESC) AS k
  FROM cov JOIN dishonest_debtors AS x ON x.uscc = cov.uscc AND x.listed_on <= cov.a
)""",
        """ca AS (
  SELECT uscc, COUNT(CASE WHEN status = 'open' THEN 1 END) AS open_n,
    SUM(CASE WHEN status = 'open' THEN amount END) AS open_amount,
    COUNT(CASE WHEN filed_on > d36 THEN 1 END) AS c36,
    COUNT(CASE WHEN filed_on > d36 AND role IN ('defendant', 'executed') THEN 1 END) AS def36,
    MIN(CASE WHEN status = 'open' AND case_type = 'enforcement' THEN filed_on END) AS enforcement_since,
    MIN(CASE WHEN status = 'open' AND case_type = 'loan' AND role = 'defendant' THEN filed_on END) AS loan_since
  FROM cs GROUP BY uscc
)""",
        "da AS (SELECT uscc, MIN(CASE WHEN listed_now THEN listed_on END) AS listed_since FROM dl GROUP BY uscc)",
        """j AS (
  SELECT cov.uscc, ca.open_n, COALESCE(ca.open_amount, 0) AS open_amount, ca.c36, ca.def36,
    ca.enforcement_since, ca.loan_since, da.listed_since
  FROM cov LEFT JOIN ca ON ca.uscc = cov.uscc LEFT JOIN da ON da.uscc = cov.uscc
)""",
    ]
    flags = [("dishonest_debtor", "listed_since"), ("open_enforcement", "enforcement_since"),
             ("loan_dispute_defendant", "loan_since")]  # fmt: skip
    selects = [
        value_row("j", "open_cases", count_or_zero("open_n")),
        value_row("j", "open_case_amount", quoted("open_amount")),
        value_row("j", "cases_36m", count_or_zero("c36")),
        value_row("j", "defendant_cases_36m", count_or_zero("def36")),
        value_row("j", "dishonest_debtor", boolean("listed_since IS NOT NULL")),
        *(
            item_rows("j", "flags", str(i), obj({"flag": f"'\"{flag}\"'", "since": quoted(since)}),
                   where=f"{since} IS NOT NULL")
            for i, (flag, since) in enumerate(flags, start=1)
        ),
        item_rows("dl", "dishonest_listings", "k", obj({"case_no": text("case_no"), "court": text("court"),
               "amount": quoted("amount"), "listed_on": quoted("listed_on"), "removed_on": quoted("removed_on")})),
        item_rows("cs", "cases", "k", obj({"case_no": text("case_no"), "case_type": text("case_type"),
               "role": text("role"), "filed_on": quoted("filed_on"), "amount": quoted("amount"),
               "status": text("status")}), where=f"k <= {RECENT_ITEMS}"),
    ]  # fmt: skip
    return statement(ctes, selects, ("cases", "dishonest_listings", "flags"), "cov")


def penalties() -> str:
    ctes = [
        covered("penalties"),
        """pe AS (
  SELECT cov.uscc, x.penalty_type, x.decided_on, x.amount, x.authority, x.decision_no, x.reason, cov.d36,
    ROW_NUMBER() OVER (PARTITION BY cov.uscc ORDER BY x.decided_on DESC, x.decision_no DESC) AS k
  FROM cov JOIN admin_penalties AS x ON x.uscc = cov.uscc AND x.decided_on <= cov.a
)""",
        f"""pa AS (
  SELECT uscc, COUNT(CASE WHEN decided_on > d36 THEN 1 END) AS n36,
    SUM(CASE WHEN decided_on > d36 THEN amount END) AS amount36, MAX(decided_on) AS latest,
    MIN(CASE WHEN decided_on > d36 AND penalty_type IN ({_SEVERE}) THEN decided_on END) AS severe_since
  FROM pe GROUP BY uscc
)""",
        """p AS (
  SELECT cov.uscc, pa.n36, COALESCE(pa.amount36, 0) AS amount36, pa.latest, pa.severe_since
  FROM cov LEFT JOIN pa ON pa.uscc = cov.uscc
)""",
    ]
    selects = [
        value_row("p", "penalties_36m", count_or_zero("n36")),
        value_row("p", "amount_36m", quoted("amount36")),
        value_row("p", "latest_on", quoted("latest")),
        value_row("p", "severe_36m", boolean("severe_since IS NOT NULL")),
        item_rows("p", "flags", "1", obj({"flag": "'\"severe_penalty\"'", "since": quoted("severe_since")}),
               where="severe_since IS NOT NULL"),
        item_rows("pe", "items", "k", obj({"decision_no": text("decision_no"), "authority": text("authority"),
               "penalty_type": text("penalty_type"), "amount": quoted("amount"),
               "decided_on": quoted("decided_on"), "reason": text("reason")}), where=f"k <= {RECENT_ITEMS}"),
    ]  # fmt: skip
    return statement(ctes, selects, ("flags", "items"), "cov")
