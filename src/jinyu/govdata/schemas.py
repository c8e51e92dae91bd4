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
    tax_months: int
    tax_paid_12m: Decimal
    sales_declared_12m: Decimal
    invention_patents: int
    utility_model_patents: int
    design_patents: int
    open_cases: int
    open_case_amount: Decimal
