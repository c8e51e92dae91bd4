"""Views of chain analytics. Money is Decimal yuan (serialised as strings), shares Decimal 0..1."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pydantic import BaseModel, Field


class SegmentOut(BaseModel):
    code: str
    name: str
    name_en: str
    order: int
    industries: list[str]
    members: int


class ChainOut(BaseModel):
    code: str
    name: str
    name_en: str
    chief_bank_name: str | None
    members: int
    segments: list[SegmentOut]


class MemberOut(BaseModel):
    uscc: str
    segment: str
    is_core: bool
    name: str | None
    industry_code: str | None
    district_code: str | None
    status: str | None
    mapped_segment: str | None  # the segment its GB/T 4754 class maps to; differs when overridden
    dataset_segment: str  # as the chain_members dataset assigns it; `segment` differs under an override


class SegmentFlow(BaseModel):
    month: str
    from_segment: str
    to_segment: str
    txn_count: int
    total_amount: Decimal


class SegmentNet(BaseModel):
    month: str
    segment: str
    inflow: Decimal
    outflow: Decimal
    net: Decimal


class FlowsOut(BaseModel):
    chain_code: str
    from_month: str
    to_month: str
    flows: list[SegmentFlow]
    net: list[SegmentNet]


class ExternalFlow(BaseModel):
    month: str
    segment: str
    direction: str
    counterparty: str
    txn_count: int
    total_amount: Decimal


class GapOut(BaseModel):
    segment: str
    members: int
    paid_in_chain: Decimal
    paid_outside_chain: Decimal
    leak_share: Decimal | None
    advice: list[str]


class CoreOut(BaseModel):
    uscc: str
    name: str | None
    segment: str | None
    is_core: bool
    pagerank_supplier: float
    pagerank_buyer: float
    betweenness: float | None
    paid: Decimal
    received: Decimal


class NetworkOut(BaseModel):
    chain_code: str
    as_of_month: str
    window_months: int
    decay_per_month: Decimal
    nodes: int
    links: int
    betweenness_computed: bool
    ranking: list[CoreOut]


class HealthOut(BaseModel):
    uscc: str
    name: str | None
    status: str | None
    headcount_now: int | None
    headcount_before: int | None
    # Level-5 tax detail: null for a bank without a supervisor's level-5 approval on the grant (policy).
    tax_12m: Decimal | None
    tax_prev_12m: Decimal | None
    tax_change: Decimal | None  # tax_12m / tax_prev_12m − 1 (4 places); null without a base; level 5 too
    open_cases: int
    paying_months: int
    # Derived from the figures above: a flag computed from a class the caller is not shown is left out, and
    # the verdict is null unless the caller is shown every figure it rests on (policy `derived`).
    flags: list[str]
    healthy: bool | None


class Counterparty(HealthOut):
    amount: Decimal  # paid to it (supplier) or received from it (dealer) in the window


class CounterpartyHealthOut(BaseModel):
    chain_code: str
    uscc: str
    as_of_month: str
    enterprise: HealthOut
    suppliers: list[Counterparty]
    dealers: list[Counterparty]
    healthy_supplier_share: Decimal | None
    healthy_dealer_share: Decimal | None


class ExposedOut(BaseModel):
    uscc: str
    name: str | None
    segment: str | None
    tier: int
    exposure: Decimal
    buffer: Decimal
    distress: Decimal
    loss: Decimal


class ContagionOut(BaseModel):
    chain_code: str
    failing: str
    as_of_month: str
    receivable_months: int
    total_loss: Decimal
    exposed: list[ExposedOut]


class LoansOut(BaseModel):
    chain_code: str
    from_month: str
    to_month: str
    total_amount: Decimal
    medium_long_share: Decimal | None
    coverage_share: Decimal | None
    by_quarter: list[dict[str, object]]
    by_segment: list[dict[str, object]]
    by_bank: list[dict[str, object]]
    by_term: list[dict[str, object]]
    coverage: list[dict[str, object]]


class PortraitScore(BaseModel):
    probability: float  # of distress within six months
    points: int  # higher is better: 600 at odds 50:1, 20 points double the odds
    band: str  # A (best) .. E by points
    # The features that cost the most points: feature, value (null: missing, or tax-derived and the bank has
    # no level-5 approval), points.
    factors: list[dict[str, object]]


class ScoreModelOut(BaseModel):
    train_month: str  # six months before the batch's month; labels are the flags in the batch's month
    train_size: int
    train_bad: int
    fitted: bool  # false when the training month had one class only: portraits then carry no score
    # isotonic calibration on M − 6 with training on M − 9 (the default when both months have both classes);
    # null: trained on M − 6 and not calibrated (docs/chains.md, "Batch portraits")
    calibration_month: str | None = None
    calibration_method: str | None = None


class PortraitOut(BaseModel):
    uscc: str
    name: str | None
    segment: str
    is_core: bool
    health: HealthOut
    pagerank_supplier: float | None
    pagerank_buyer: float | None
    score: PortraitScore | None
    basis: str  # why the caller may see it: regulator, own, or the consent grant id


class PortraitBatchOut(BaseModel):
    chain_code: str
    as_of_month: str
    members: int
    exported: int
    withheld: int  # members without a grant in force to the caller (not named)
    score_model: ScoreModelOut
    items: list[PortraitOut]


class ScoredOut(BaseModel):
    uscc: str
    probability: float  # of distress within the horizon
    points: int  # higher is better: 600 at odds 50:1, 20 points double the odds
    band: str  # A (best) .. E by points
    factors: list[dict[str, object]]  # the features that cost the most points
    observed_bad: bool  # what happened (the held-out label)


class ScorecardOut(BaseModel):
    chain_code: str
    train_month: str
    test_month: str
    horizon_months: int
    train_size: int
    train_bad: int
    test_size: int
    test_bad: int
    auc: float | None
    ks: float | None
    calibration: list[dict[str, float]]  # fifths by predicted PD: count, mean predicted, observed bad rate
    reliability: list[dict[str, float]]  # the same by decile (the reliability table)
    brier: float | None  # mean (probability − outcome)² on the test month
    calibration_month: str | None  # the held-out month the calibration was fitted on (None: not calibrated)
    calibration_method: str | None  # isotonic | platt; None when not calibrated (or the fit was refused)
    platt: list[float] | None  # [a, b]: PD = 1 / (1 + exp(−(a + b·logit))); None unless Platt
    # [[raw logit, PD], ...] logits ascending: PD linear between the points, constant beyond, clamped to
    # [0.001, 0.999]; None unless isotonic
    isotonic: list[list[float]] | None
    intercept: float
    coefficients: dict[str, float]
    bins: dict[str, list[dict[str, object]]]
    items: list[ScoredOut]


class SegmentIn(BaseModel):
    code: str
    name: str
    name_en: str = ""
    industries: list[str] = []


class ChainDefinitionIn(BaseModel):
    version: int  # the version the edit starts from (0: the shipped definition); another one answers 409
    name: str
    name_en: str
    chief_bank_name: str | None = None
    segments: list[SegmentIn]
    overrides: dict[str, str] = {}  # USCC -> segment
    note: str = Field("", max_length=500)


class SegmentOverrideIn(BaseModel):
    version: int  # the version the edit starts from; another one answers 409
    segment: str | None  # null removes the enterprise's override
    note: str = Field("", max_length=500)


class SegmentDefOut(BaseModel):
    code: str
    name: str
    name_en: str
    industries: list[str]


class ChainDefinitionOut(BaseModel):
    chain_code: str
    version: int  # 0: the shipped definition (data/chains.json), never edited
    name: str
    name_en: str
    chief_bank_name: str | None
    segments: list[SegmentDefOut]
    overrides: dict[str, str]  # USCC -> segment, over the chain_members dataset and the industry mapping
    note: str
    updated_by: str | None
    updated_at: dt.datetime | None


class DefinitionVersionOut(BaseModel):
    version: int
    note: str
    created_by: str
    created_at: dt.datetime
