"""Parsing a product definition (a plain mapping from YAML or JSON) into `product.Product`, with every
problem reported at once by its field path.

Stdlib only: values in, values out.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from jinyu.claim.errors import ProductDefinitionInvalid
from jinyu.claim.rules.product import (
    BILL_FIELDS,
    FEN,
    ONE,
    ROUNDING_MODES,
    ZERO,
    Basis,
    Deductible,
    DeductiblePeriod,
    Drug,
    InsurerShare,
    Liability,
    LiabilityKind,
    Payer,
    Product,
    Ratios,
    canonical_json,
)
from jinyu.core.errors import FieldError

_CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")
_ICD_RE = re.compile(r"^[A-Z][0-9]{2}(\.[0-9A-Z]{1,4})?$")
_CITY_RE = re.compile(r"^\d{6}$")


class _Errors:
    def __init__(self) -> None:
        self.items: list[FieldError] = []

    def add(self, path: str, message: str) -> None:
        self.items.append(FieldError(path, message))


def _text(errs: _Errors, data: Mapping[str, Any], key: str, path: str, *, required: bool = True) -> str:
    value = data.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            errs.add(f"{path}{key}", "必填 / required")
        return ""
    if not isinstance(value, str | int):
        errs.add(f"{path}{key}", "应为文本 / must be text")
        return ""
    return str(value).strip()


def _code(errs: _Errors, data: Mapping[str, Any], key: str, path: str) -> str:
    value = _text(errs, data, key, path)
    if value and not _CODE_RE.match(value):
        errs.add(f"{path}{key}", "编码只能含字母、数字和 _.- / code may hold letters, digits and _.- only")
    return value


def _amount(
    errs: _Errors, value: Any, path: str, *, required: bool = True, positive: bool = False
) -> Decimal | None:
    if value is None:
        if required:
            errs.add(path, "必填 / required")
        return None
    if isinstance(value, bool | float):
        # Floats are refused: 0.1 + 0.2 is not money. YAML and JSON authors write amounts as strings.
        errs.add(path, '金额须写成字符串或整数，如 "20000.00" / write amounts as strings or integers')
        return None
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        errs.add(path, f"不是有效金额 / not an amount: {value!r}")
        return None
    if not amount.is_finite() or amount != amount.quantize(FEN):
        errs.add(path, "金额最多两位小数（分）/ at most two decimals (fen)")
        return None
    if amount < 0 or (positive and amount == 0):
        errs.add(
            path, "金额须为正数 / must be positive" if positive else "金额不能为负 / must not be negative"
        )
        return None
    return amount.quantize(FEN)


def _ratio(errs: _Errors, value: Any, path: str) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool | float):
        errs.add(path, '比例须写成字符串，如 "0.70" / write ratios as strings like "0.70"')
        return None
    try:
        ratio = Decimal(str(value).strip())
    except InvalidOperation:
        errs.add(path, f"不是有效比例 / not a ratio: {value!r}")
        return None
    if not ratio.is_finite() or not 0 <= ratio <= 1:
        errs.add(path, "赔付比例应在 0 到 1 之间 / ratio must be between 0 and 1")
        return None
    if ratio != ratio.quantize(Decimal("0.0001")):
        errs.add(path, "比例最多四位小数 / at most four decimals")
        return None
    return ratio


def _date(errs: _Errors, value: Any, path: str) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except (TypeError, ValueError):
        errs.add(path, f"日期应为 YYYY-MM-DD / date must be YYYY-MM-DD: {value!r}")
        return None


def _mapping(errs: _Errors, value: Any, path: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        errs.add(path, "应为对象 / must be a mapping")
        return {}
    return value


def _sequence(errs: _Errors, value: Any, path: str, *, required: bool = True) -> Sequence[Any]:
    if value is None:
        if required:
            errs.add(path, "必填 / required")
        return ()
    if isinstance(value, str) or not isinstance(value, Sequence):
        errs.add(path, "应为列表 / must be a list")
        return ()
    return value


def parse_product(data: Any) -> Product:
    """Validate a product definition; raise ProductDefinitionInvalid listing every problem by path."""
    errs = _Errors()
    root = _mapping(errs, data, "product")
    if errs.items:
        raise ProductDefinitionInvalid(
            detail="产品定义应为对象 / definition must be a mapping", fields=errs.items
        )
    code = _code(errs, root, "code", "")
    version = root.get("version", 1)
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        errs.add("version", "版本号应为正整数 / version must be a positive integer")
        version = 1
    name = _text(errs, root, "name", "")
    city = _text(errs, root, "city", "")
    if city and not _CITY_RE.match(city):
        errs.add("city", "城市应为6位行政区划代码 / city must be a 6-digit division code")
    year = root.get("year")
    if not isinstance(year, int) or isinstance(year, bool) or not 2000 <= year <= 2100:
        errs.add("year", "年度应为 2000–2100 的整数 / year must be an integer 2000-2100")
        year = 2000
    edition = _text(errs, root, "edition", "")
    period = _mapping(errs, root.get("period"), "period")
    start = _date(errs, period.get("start"), "period.start")
    end = _date(errs, period.get("end"), "period.end")
    if start and end and start > end:
        errs.add("period.end", "保险期间结束日早于开始日 / period ends before it starts")
    if start and end and (end - start).days > 366:
        errs.add("period.end", "保险期间不能超过一年 / a policy period is at most one year")
    premium = _amount(errs, root.get("premium", "0"), "premium") or ZERO
    insurers = _insurers(errs, root.get("insurers"))
    payer_order = _payer_order(errs, root.get("payer_order"))
    rounding = str(root.get("rounding", "half_up"))
    if rounding not in ROUNDING_MODES:
        errs.add("rounding", f"取整方式应为 / rounding must be one of {', '.join(ROUNDING_MODES)}")
    deductibles = _deductibles(errs, root.get("deductibles", []))
    overall_cap = _amount(errs, root.get("overall_cap"), "overall_cap", positive=True) or ZERO
    liabilities = _liabilities(errs, root.get("liabilities"), {d.code for d in deductibles})
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
        raw=json.loads(canonical_json(root)),
    )


def _insurers(errs: _Errors, value: Any) -> tuple[InsurerShare, ...]:
    items = _sequence(errs, value, "insurers")
    if value is not None and not items:
        errs.add("insurers", "至少一家保险公司 / at least one insurer")
    out: list[InsurerShare] = []
    for n, raw in enumerate(items):
        path = f"insurers[{n}]."
        item = _mapping(errs, raw, f"insurers[{n}]")
        org_code = _code(errs, item, "org_code", path)
        share = _ratio(errs, item.get("share", "1" if len(items) == 1 else None), f"{path}share")
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


def _payer_order(errs: _Errors, value: Any) -> tuple[Payer, ...]:
    default = (Payer.BMI, Payer.SERIOUS_ILLNESS, Payer.LARGE_AMOUNT, Payer.MEDICAL_ASSISTANCE, Payer.PRODUCT)
    if value is None:
        return default
    items = _sequence(errs, value, "payer_order")
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


def _deductibles(errs: _Errors, value: Any) -> tuple[Deductible, ...]:
    out: list[Deductible] = []
    for n, raw in enumerate(_sequence(errs, value, "deductibles")):
        path = f"deductibles[{n}]."
        item = _mapping(errs, raw, f"deductibles[{n}]")
        code = _code(errs, item, "code", path)
        amount = _amount(errs, item.get("amount"), f"{path}amount")
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


def _basis(errs: _Errors, value: Any, path: str) -> Basis | None:
    if value is None:
        return None
    item = _mapping(errs, value, path)
    parts: dict[str, tuple[str, ...]] = {}
    for key in ("add", "subtract"):
        names = tuple(str(v) for v in _sequence(errs, item.get(key, []), f"{path}.{key}"))
        for name in names:
            if name not in BILL_FIELDS:
                errs.add(f"{path}.{key}", f"未知结算字段 / unknown settlement field {name!r}")
        parts[key] = names
    if not parts["add"]:
        errs.add(f"{path}.add", "至少一个字段 / at least one field")
    return Basis(parts["add"], parts["subtract"])


def _drugs(errs: _Errors, value: Any, path: str) -> tuple[Drug, ...]:
    out: list[Drug] = []
    items = _sequence(errs, value, path)
    if value is not None and not items:
        errs.add(path, "特药清单不能为空 / the drug list must not be empty")
    for n, raw in enumerate(items):
        item = _mapping(errs, raw, f"{path}[{n}]")
        code = _code(errs, item, "code", f"{path}[{n}].")
        name = _text(errs, item, "name", f"{path}[{n}].")
        indications = tuple(
            str(v).strip().upper()
            for v in _sequence(errs, item.get("indications"), f"{path}[{n}].indications")
        )
        if not indications:
            errs.add(f"{path}[{n}].indications", "须列出适应症（ICD-10）/ list the indications (ICD-10)")
        for ind in indications:
            if not _ICD_RE.match(ind):
                errs.add(f"{path}[{n}].indications", f"不是 ICD-10 编码 / not an ICD-10 code: {ind!r}")
        out.append(Drug(code, name, indications))
    codes = [d.code for d in out]
    if len(set(codes)) != len(codes):
        errs.add(path, "药品编码重复 / a drug is listed twice")
    return tuple(out)


def _liabilities(errs: _Errors, value: Any, pools: set[str]) -> tuple[Liability, ...]:
    items = _sequence(errs, value, "liabilities")
    if value is not None and not items:
        errs.add("liabilities", "至少一项保险责任 / at least one liability")
    out: list[Liability] = []
    drug_codes: set[str] = set()
    for n, raw in enumerate(items):
        path = f"liabilities[{n}]."
        item = _mapping(errs, raw, f"liabilities[{n}]")
        code = _code(errs, item, "code", path)
        name = _text(errs, item, "name", path)
        try:
            kind = LiabilityKind(str(item.get("kind")))
        except ValueError:
            errs.add(f"{path}kind", f"应为 / must be one of {', '.join(LiabilityKind)}")
            kind = LiabilityKind.OTHER
        pool = item.get("deductible")
        if pool is not None and str(pool) not in pools:
            errs.add(f"{path}deductible", f"未定义的免赔额 / undefined deductible pool {pool!r}")
        ratios_raw = _mapping(errs, item.get("ratios", {}), f"{path}ratios")
        default = _ratio(errs, ratios_raw.get("default"), f"{path}ratios.default")
        if ratios_raw.get("default") is None:
            errs.add(f"{path}ratios.default", "必填 / required")
        default = default if default is not None else ZERO
        pre = _ratio(errs, ratios_raw.get("pre_existing"), f"{path}ratios.pre_existing")
        non_bmi = _ratio(errs, ratios_raw.get("non_bmi"), f"{path}ratios.non_bmi")
        for key in ratios_raw:
            if key not in ("default", "pre_existing", "non_bmi"):
                errs.add(f"{path}ratios.{key}", "未知比例类型 / unknown ratio kind")
        cap = _amount(errs, item.get("cap"), f"{path}cap", required=False)
        basis = _basis(errs, item.get("basis"), f"{path}basis")
        if kind == LiabilityKind.OTHER and basis is None:
            errs.add(f"{path}basis", "“其他”责任须配置计算基础 / an `other` liability needs a basis")
        if kind == LiabilityKind.SPECIAL_DRUG and basis is not None:
            errs.add(f"{path}basis", "特药责任按明细计算，不能配置 basis / special drugs are paid by line")
        drugs: tuple[Drug, ...] = ()
        pharmacies: tuple[str, ...] = ()
        if kind == LiabilityKind.SPECIAL_DRUG:
            drugs = _drugs(errs, item.get("drugs"), f"{path}drugs")
            for d in drugs:
                if d.code in drug_codes:
                    errs.add(
                        f"{path}drugs", f"药品 {d.code} 已在另一责任中 / drug {d.code} is in two liabilities"
                    )
                drug_codes.add(d.code)
            pharmacies = tuple(
                str(p)
                for p in _sequence(
                    errs, item.get("designated_pharmacies", []), f"{path}designated_pharmacies"
                )
            )
        out.append(
            Liability(
                code=code,
                kind=kind,
                name=name,
                deductible=str(pool) if pool is not None else None,
                ratios=Ratios(
                    default, pre if pre is not None else default, non_bmi if non_bmi is not None else default
                ),
                cap=cap,
                basis=basis,
                drugs=drugs,
                designated_pharmacies=pharmacies,
                hospital_dispensing=bool(item.get("hospital_dispensing", True)),
                carve_out=bool(item.get("carve_out", True)),
            )
        )
    codes = [li.code for li in out]
    if len(set(codes)) != len(codes):
        errs.add("liabilities", "保险责任编码重复 / liability codes must be unique")
    return tuple(out)
