"""docs/data-security.md carries the policy's role x class table exactly as the policy renders it, and names the
policy's version."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from jinyu.cli import app
from jinyu.governance.policy.protect import current
from jinyu.governance.policy.table import markdown

DOC = Path(__file__).resolve().parents[2] / "docs" / "data-security.md"


def test_the_docs_table_is_the_policys() -> None:
    text = DOC.read_text(encoding="utf-8")
    start, end = "<!-- policy-table:start -->\n", "\n<!-- policy-table:end -->"
    shown = text[text.index(start) + len(start) : text.index(end)]
    assert shown == markdown(current())
    assert current().version in text


def test_jinyu_policy_show_json_names_version_rules_and_table() -> None:
    result = CliRunner().invoke(app, ["policy", "show", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["version"] == "v2026.12.9" and out["default"] == "withhold"
    tax = next(r for r in out["table"] if r["class"] == "enterprise_tax")
    opened = "— / clear with L5 approval for credit_assessment, loan_review, post_loan_monitoring"
    assert tax["bank_hq_risk"] == opened and tax["enterprise_admin"] == "clear"
    assert [r["id"] for r in out["rules"]][:2] == ["open", "credential-holder"]
    bank_tax = next(r for r in out["rules"] if r["id"] == "tax-bank-approved")
    assert bank_tax["purposes"] == ["credit_assessment", "loan_review", "post_loan_monitoring"]
    assert out["derived"]["HealthOut.flags"]["items"]["tax_drop"] == "enterprise_tax"
