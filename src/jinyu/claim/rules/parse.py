"""Parsing a product definition (a plain mapping from YAML or JSON) into `product.Product`, with every
problem reported at once by its field path.

Stdlib only: values in, values out.
"""

from __future__ import annotations

import json
from typing import Any

from jinyu.claim.errors import ProductDefinitionInvalid
from jinyu.claim.rules.parse_fields import (
    CITY_RE,
    Errors,
    read_amount,
    read_code,
    read_date,
    read_mapping,
    read_ratio,
    read_sequence,
    read_text,
)
from jinyu.claim.rules.parse_liabilities import liabilities as parse_liabilities
from jinyu.claim.rules.product import (
    ONE,
    ROUNDING_MODES,
    ZERO,
    Deductible,
    DeductiblePeriod,
    InsurerShare,
    Payer,
    Product,
    canonical_json,
)

FORMATS = (1, 2)
MAX_YEARS = 5  # format 2: a version may span up to five policy years (counters kept per year)


def parse_product(data: Any) -> Product:
    """Validate a product definition; raise ProductDefinitionInvalid listing every problem by path."""
    errs = Errors()
    root = read_mapping(errs, data, "product")
    if errs.items:
        raise ProductDefinitionInvalid(
            detail="产品定义应为对象 / definition must be a mapping", fields=errs.items
        )
    fmt = root.get("format", 1)
    if fmt not in FORMATS or isinstance(fmt, bool):
        errs.add("format", f"格式版本应为 / format must be one of {', '.join(map(str, FORMATS))}")
        fmt = FORMATS[-1]
    code = read_code(errs, root, "code", "")
    version = root.get("version", 1)
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        errs.add("version", "版本号应为正整数 / version must be a positive integer")
        version = 1
    name = read_text(errs, root, "name", "")
    city = read_text(errs, root, "city", "")
    if city and not CITY_RE.match(city):
        errs.add("city", "城市应为6位行政区划代码 / city must be a 6-digit division code")
    year = root.get("year")
    if not isinstance(year, int) or isinstance(year, bool) or not 2000 <= year <= 2100:
        errs.add("year", "年度应为 2000–2100 的整数 / year must be an integer 2000-2100")
        year = 2000
    edition = read_text(errs, root, "edition", "")
    period = read_mapping(errs, root.get("period"), "period")
    start = read_date(errs, period.get("start"), "period.start")
    end = read_date(errs, period.get("end"), "period.end")
    if start and end and start > end:
        errs.add("period.end", "保险期间结束日早于开始日 / period ends before it starts")
    if start and end and fmt < 2 and (end - start).days > 366:
        errs.add("period.end", "保险期间不能超过一年 / a policy period is at most one year (format 1)")
    if (
        start
        and end
        and fmt >= 2
        and (end.year - start.year) * 12 + end.month - start.month >= 12 * MAX_YEARS
    ):
        errs.add("period.end", f"至多 {MAX_YEARS} 个保单年度 / at most {MAX_YEARS} policy years")
    premium = read_amount(errs, root.get("premium", "0"), "premium") or ZERO
    insurers = _insurers(errs, root.get("insurers"))
    payer_order = _payer_order(errs, root.get("payer_order"))
    rounding = str(root.get("rounding", "half_up"))
    if rounding not in ROUNDING_MODES:
        errs.add("rounding", f"取整方式应为 / rounding must be one of {', '.join(ROUNDING_MODES)}")
    deductibles = _deductibles(errs, root.get("deductibles", []))
    overall_cap = read_amount(errs, root.get("overall_cap"), "overall_cap", positive=True) or ZERO
    liabilities = parse_liabilities(errs, root.get("liabilities"), {d.code for d in deductibles}, fmt)
    interim = root.get("interim_settlements", False)
    if not isinstance(interim, bool):
        errs.add("interim_settlements", "应为 true 或 false / must be true or false")
    used_pools = {li.deductible for li in liabilities if li.deductible}
    for n, d in enumerate(deductibles):
        if d.code not in used_pools:
            errs.add(f"deductibles[{n}].code", f"免赔额“{d.code}”未被任何责任使用 / pool {d.code} is unused")
    if errs.items:
        raise ProductDefinitionInvalid(
            detail=f"{len(errs.items)} 处错误 / {len(errs.items)} problem(s): "
            + "; ".join(f"{e.field}: {e.message}" for e in errs.items[:5]),
            fields=errs.items,
        )
    assert start is not None and end is not None
    return Product(
        code=code,
        version=version,
        name=name,
        name_en=str(root.get("name_en", "")),
        city=city,
        year=year,
        edition=edition,
        period_start=start,
        period_end=end,
        premium=premium,
        insurers=insurers,
        payer_order=payer_order,
        rounding=rounding,
        deductibles=deductibles,
        liabilities=liabilities,
        overall_cap=overall_cap,
        interim_settlements=interim is True,
        format=fmt,
        raw=json.loads(canonical_json(root)),
    )


def _insurers(errs: Errors, value: Any) -> tuple[InsurerShare, ...]:
    items = read_sequence(errs, value, "insurers")
    if value is not None and not items:
        errs.add("insurers", "至少一家保险公司 / at least one insurer")
    out: list[InsurerShare] = []
    for n, raw in enumerate(items):
        path = f"insurers[{n}]."
        item = read_mapping(errs, raw, f"insurers[{n}]")
        org_code = read_code(errs, item, "org_code", path)
        share = read_ratio(errs, item.get("share", "1" if len(items) == 1 else None), f"{path}share")
        if share is None and item.get("share") is None and len(items) > 1:
            errs.add(f"{path}share", "共保时须写明份额 / co-insurers need a share")
        if share == 0:
            errs.add(f"{path}share", "份额须大于 0 / share must be above 0")
        out.append(InsurerShare(org_code, share or ZERO, bool(item.get("lead", False))))
    codes = [i.org_code for i in out]
    if len(set(codes)) != len(codes):
        errs.add("insurers", "保险公司重复 / an insurer is listed twice")
    if out and all(i.share > 0 for i in out) and sum(i.share for i in out) != ONE:
        errs.add("insurers", "共保份额之和应为 1 / shares must add up to 1")
    leads = [i for i in out if i.lead]
    if len(leads) > 1:
        errs.add("insurers", "只能有一家主承保公司 / only one lead insurer")
    if out and not leads:
        out[0] = InsurerShare(out[0].org_code, out[0].share, True)
    return tuple(out)


def _payer_order(errs: Errors, value: Any) -> tuple[Payer, ...]:
    default = (Payer.BMI, Payer.SERIOUS_ILLNESS, Payer.LARGE_AMOUNT, Payer.MEDICAL_ASSISTANCE, Payer.PRODUCT)
    if value is None:
        return default
    items = read_sequence(errs, value, "payer_order")
    order: list[Payer] = []
    for n, raw in enumerate(items):
        try:
            order.append(Payer(str(raw)))
        except ValueError:
            errs.add(f"payer_order[{n}]", f"未知支付方 / unknown payer {raw!r}; one of {', '.join(Payer)}")
    if errs.items and len(order) != len(items):
        return default
    if sorted(order) != sorted(Payer):
        errs.add(
            "payer_order", f"须恰好列出每个支付方一次 / list each payer exactly once: {', '.join(Payer)}"
        )
        return default
    if order[0] != Payer.BMI:
        errs.add("payer_order", "基本医保须最先支付 / basic medical insurance pays first")
    return tuple(order)


def _deductibles(errs: Errors, value: Any) -> tuple[Deductible, ...]:
    out: list[Deductible] = []
    for n, raw in enumerate(read_sequence(errs, value, "deductibles")):
        path = f"deductibles[{n}]."
        item = read_mapping(errs, raw, f"deductibles[{n}]")
        code = read_code(errs, item, "code", path)
        amount = read_amount(errs, item.get("amount"), f"{path}amount")
        try:
            period = DeductiblePeriod(str(item.get("period", DeductiblePeriod.POLICY_YEAR)))
        except ValueError:
            errs.add(f"{path}period", f"应为 / must be one of {', '.join(DeductiblePeriod)}")
            period = DeductiblePeriod.POLICY_YEAR
        out.append(Deductible(code, amount or ZERO, period))
    codes = [d.code for d in out]
    if len(set(codes)) != len(codes):
        errs.add("deductibles", "免赔额编码重复 / deductible codes must be unique")
    return tuple(out)
