"""Government-data views of one enterprise."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, Field


class GovSummary(BaseModel):
    """政务数据摘要 / an enterprise's government data as of a month (what its credit card builds on)."""

    uscc: str
    name: str
    as_of_month: str
    basis: str = Field(description="访问依据：own / regulator / 授权编号 grant id")
    headcount_period: str | None
    social_insurance_count: int | None
    provident_fund_count: int | None
    # Level 5 (data-security policy class enterprise_tax): null to a bank unless the grant it reads under
    # carries a regulator supervisor's level-5 approval (docs/data-security.md).
    tax_months: int | None
    tax_paid_12m: Decimal | None
    sales_declared_12m: Decimal | None
    invention_patents: int
    utility_model_patents: int
    design_patents: int
    open_cases: int
    open_case_amount: Decimal
