"""The registration, judicial and penalty sections of the card statement (see bulk_sql.py for the shape)."""

from __future__ import annotations

from jinyu.credit.bulk_json import boolean, obj, quoted, text
from jinyu.credit.bulk_sql import Part, count_or_zero, covered, list_cte, listed
from jinyu.credit.rules import RECENT_ITEMS, SEVERE_PENALTIES

_SEVERE = ", ".join(f"'{p}'" for p in sorted(SEVERE_PENALTIES))


def registration() -> Part:
    ctes = [
        covered("rcov", "registration"),
        """e AS (
  SELECT rcov.uscc, x.name, x.status, x.registered_capital, x.established_on, x.industry_code, x.district_code,
    x.address, x.legal_rep_name
  FROM rcov JOIN enterprises AS x ON x.uscc = rcov.uscc
)""",
        """ch AS (
  SELECT rcov.uscc, x.changed_on, x.item, x.before_value, x.after_value, rcov.d12, rcov.d36,
    ROW_NUMBER() OVER (PARTITION BY rcov.uscc ORDER BY x.changed_on DESC, x.item DESC) AS k
  FROM rcov JOIN registration_changes AS x ON x.uscc = rcov.uscc AND x.changed_on <= rcov.a
)""",
        """chn AS (
  SELECT uscc, COUNT(CASE WHEN changed_on > d12 THEN 1 END) AS c12,
    COUNT(CASE WHEN changed_on > d36 THEN 1 END) AS c36,
    COUNT(CASE WHEN changed_on > d36 AND item = 'legal_rep' THEN 1 END) AS lr36
  FROM ch GROUP BY uscc
)""",
        """sh AS (
  SELECT e.uscc, x.holder_type, x.holder_name, x.share_ratio,
    ROW_NUMBER() OVER (PARTITION BY e.uscc
      ORDER BY x.share_ratio DESC, COALESCE(x.holder_name, '') ASC, COALESCE(x.holder_type, '') ASC) AS k
  FROM e JOIN shareholders AS x ON x.uscc = e.uscc
)""",
        list_cte("reg_holders", "sh", "k", obj({"holder_type": text("holder_type"), "name": text("holder_name"),
                 "share_ratio": quoted("share_ratio")})),
        list_cte("reg_changes", "ch", "k", obj({"changed_on": quoted("changed_on"), "item": text("item"),
                 "before": text("before_value"), "after": text("after_value")}), where=f"k <= {RECENT_ITEMS}"),
    ]  # fmt: skip
    fields = {
        "name": text("e.name"),
        "status": text("e.status"),
        "registered_capital": quoted("e.registered_capital"),
        "established_on": quoted("e.established_on"),
        "industry_code": text("e.industry_code"),
        "district_code": text("e.district_code"),
        "address": text("e.address"),
        "legal_rep_name": text("e.legal_rep_name"),
        "changes_12m": count_or_zero("chn.c12"),
        "changes_36m": count_or_zero("chn.c36"),
        "legal_rep_changes_36m": count_or_zero("chn.lr36"),
        "shareholders": listed("reg_holders"),
        "changes": listed("reg_changes"),
    }
    return Part("registration", ctes, "e", fields, ("chn", "reg_holders", "reg_changes"))


def judicial() -> Part:
    ctes = [
        covered("jcov", "judicial"),
        """cs AS (
  SELECT jcov.uscc, x.case_no, x.case_type, x.role, x.filed_on, x.amount, x.status, jcov.d36,
    ROW_NUMBER() OVER (PARTITION BY jcov.uscc ORDER BY x.filed_on DESC, x.case_no DESC) AS k
  FROM jcov JOIN judicial AS x ON x.uscc = jcov.uscc AND x.filed_on <= jcov.a
)""",
        """dl AS (
  SELECT jcov.uscc, x.case_no, x.court, x.amount, x.listed_on, x.removed_on,
    x.removed_on IS NULL OR x.removed_on > jcov.a AS listed_now,
    ROW_NUMBER() OVER (PARTITION BY jcov.uscc ORDER BY x.listed_on DESC, x.case_no DESC) AS k
  FROM jcov JOIN dishonest_debtors AS x ON x.uscc = jcov.uscc AND x.listed_on <= jcov.a
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
        list_cte("jud_listings", "dl", "k", obj({"case_no": text("case_no"), "court": text("court"),
                 "amount": quoted("amount"), "listed_on": quoted("listed_on"),
                 "removed_on": quoted("removed_on")})),
        list_cte("jud_cases", "cs", "k", obj({"case_no": text("case_no"), "case_type": text("case_type"),
                 "role": text("role"), "filed_on": quoted("filed_on"), "amount": quoted("amount"),
                 "status": text("status")}), where=f"k <= {RECENT_ITEMS}"),
    ]  # fmt: skip
    flags = [("dishonest_debtor", "da.listed_since"), ("open_enforcement", "ca.enforcement_since"),
             ("loan_dispute_defendant", "ca.loan_since")]  # fmt: skip
    # Each flag an object when its date is set; concat_ws skips the NULLs of the others (DuckDB and Spark).
    items = ", ".join(
        f"CASE WHEN {since} IS NOT NULL THEN {obj({'flag': repr_json(flag), 'since': quoted(since)})} END"
        for flag, since in flags
    )
    fields = {
        "open_cases": count_or_zero("ca.open_n"),
        "open_case_amount": quoted("COALESCE(ca.open_amount, 0)"),
        "cases_36m": count_or_zero("ca.c36"),
        "defendant_cases_36m": count_or_zero("ca.def36"),
        "dishonest_debtor": boolean("da.listed_since IS NOT NULL"),
        "flags": f"concat('[', concat_ws(',', {items}), ']')",
        "dishonest_listings": listed("jud_listings"),
        "cases": listed("jud_cases"),
    }
    return Part("judicial", ctes, "jcov", fields, ("ca", "da", "jud_listings", "jud_cases"))


def penalties() -> Part:
    ctes = [
        covered("pcov", "penalties"),
        """pe AS (
  SELECT pcov.uscc, x.penalty_type, x.decided_on, x.amount, x.authority, x.decision_no, x.reason, pcov.d36,
    ROW_NUMBER() OVER (PARTITION BY pcov.uscc ORDER BY x.decided_on DESC, x.decision_no DESC) AS k
  FROM pcov JOIN admin_penalties AS x ON x.uscc = pcov.uscc AND x.decided_on <= pcov.a
)""",
        f"""pa AS (
  SELECT uscc, COUNT(CASE WHEN decided_on > d36 THEN 1 END) AS n36,
    SUM(CASE WHEN decided_on > d36 THEN amount END) AS amount36, MAX(decided_on) AS latest,
    MIN(CASE WHEN decided_on > d36 AND penalty_type IN ({_SEVERE}) THEN decided_on END) AS severe_since
  FROM pe GROUP BY uscc
)""",
        list_cte("pen_items", "pe", "k", obj({"decision_no": text("decision_no"), "authority": text("authority"),
                 "penalty_type": text("penalty_type"), "amount": quoted("amount"),
                 "decided_on": quoted("decided_on"), "reason": text("reason")}), where=f"k <= {RECENT_ITEMS}"),
    ]  # fmt: skip
    flag = obj({"flag": repr_json("severe_penalty"), "since": quoted("pa.severe_since")})
    fields = {
        "penalties_36m": count_or_zero("pa.n36"),
        "amount_36m": quoted("COALESCE(pa.amount36, 0)"),
        "latest_on": quoted("pa.latest"),
        "severe_36m": boolean("pa.severe_since IS NOT NULL"),
        "flags": f"CASE WHEN pa.severe_since IS NOT NULL THEN concat('[', {flag}, ']') ELSE '[]' END",
        "items": listed("pen_items"),
    }
    return Part("penalties", ctes, "pcov", fields, ("pa", "pen_items"))


def repr_json(name: str) -> str:
    """A fixed JSON string (an identifier: nothing to escape) as an SQL literal."""
    return f"'\"{name}\"'"
