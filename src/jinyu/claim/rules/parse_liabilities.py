"""Parsing the liabilities of a product definition (see `parse`): kinds, ratios, visit types, caps, drugs.

Stdlib only: values in, values out.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from jinyu.claim.rules.parse_fields import (
    CODE_RE,
    ICD_RE,
    Errors,
    read_amount,
    read_code,
    read_mapping,
    read_ratio,
    read_sequence,
    read_text,
)
from jinyu.claim.rules.product import (
    ANY,
    BILL_FIELDS,
    RATIO_KINDS,
    ZERO,
    Basis,
    Drug,
    Liability,
    LiabilityKind,
    Ratios,
    med_type_known,
)

# Keys a format-1 definition cannot have (they would be silently ignored): write `format: 2`.
_FORMAT2_KEYS = ("med_types", "in_overall_cap", "bmi_deductible")


def _basis(errs: Errors, value: Any, path: str) -> Basis | None:
    if value is None:
        return None
    item = read_mapping(errs, value, path)
    parts: dict[str, tuple[str, ...]] = {}
    for key in ("add", "subtract"):
        names = tuple(str(v) for v in read_sequence(errs, item.get(key, []), f"{path}.{key}"))
        for name in names:
            if name not in BILL_FIELDS:
                errs.add(f"{path}.{key}", f"未知结算字段 / unknown settlement field {name!r}")
        parts[key] = names
    if not parts["add"]:
        errs.add(f"{path}.add", "至少一个字段 / at least one field")
    return Basis(parts["add"], parts["subtract"])


def _drugs(errs: Errors, value: Any, path: str) -> tuple[Drug, ...]:
    out: list[Drug] = []
    items = read_sequence(errs, value, path)
    if value is not None and not items:
        errs.add(path, "特药清单不能为空 / the drug list must not be empty")
    for n, raw in enumerate(items):
        item = read_mapping(errs, raw, f"{path}[{n}]")
        code = read_code(errs, item, "code", f"{path}[{n}].")
        name = read_text(errs, item, "name", f"{path}[{n}].")
        indications = tuple(
            str(v).strip().upper()
            for v in read_sequence(errs, item.get("indications"), f"{path}[{n}].indications")
        )
        if not indications:
            errs.add(f"{path}[{n}].indications", "须列出适应症（ICD-10）/ list the indications (ICD-10)")
        for ind in indications:
            if not ICD_RE.match(ind):
                errs.add(f"{path}[{n}].indications", f"不是 ICD-10 编码 / not an ICD-10 code: {ind!r}")
        hospitals: tuple[str, ...] | None = None
        if item.get("hospitals") is not None:
            if item["hospitals"] == ANY:
                hospitals = (ANY,)
            else:
                hospitals = _codes(errs, item["hospitals"], f"{path}[{n}].hospitals")
        pharmacies = (
            _codes(errs, item["pharmacies"], f"{path}[{n}].pharmacies")
            if item.get("pharmacies") is not None
            else None
        )
        if hospitals == () and pharmacies == ():
            errs.add(
                f"{path}[{n}]", "药品须至少有一个发药渠道 / a drug needs at least one dispensing channel"
            )
        out.append(Drug(code, name, indications, hospitals, pharmacies))
    codes = [d.code for d in out]
    if len(set(codes)) != len(codes):
        errs.add(path, "药品编码重复 / a drug is listed twice")
    return tuple(out)


def liabilities(errs: Errors, value: Any, pools: set[str], fmt: int) -> tuple[Liability, ...]:
    items = read_sequence(errs, value, "liabilities")
    if value is not None and not items:
        errs.add("liabilities", "至少一项保险责任 / at least one liability")
    out: list[Liability] = []
    drug_codes: set[str] = set()
    for n, raw in enumerate(items):
        path = f"liabilities[{n}]."
        item = read_mapping(errs, raw, f"liabilities[{n}]")
        code = read_code(errs, item, "code", path)
        name = read_text(errs, item, "name", path)
        try:
            kind = LiabilityKind(str(item.get("kind")))
        except ValueError:
            errs.add(f"{path}kind", f"应为 / must be one of {', '.join(LiabilityKind)}")
            kind = LiabilityKind.OTHER
        pool = item.get("deductible")
        if pool is not None and str(pool) not in pools:
            errs.add(f"{path}deductible", f"未定义的免赔额 / undefined deductible pool {pool!r}")
        ratios = _ratios(errs, item.get("ratios", {}), f"{path}ratios", fmt)
        cap = read_amount(errs, item.get("cap"), f"{path}cap", required=False)
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
            pharmacies = _codes(errs, item.get("designated_pharmacies", []), f"{path}designated_pharmacies")
        med_types, in_overall_cap, bmi_covered = _format2_terms(errs, item, path, fmt, kind, cap)
        out.append(
            Liability(
                code=code,
                kind=kind,
                name=name,
                deductible=str(pool) if pool is not None else None,
                ratios=ratios,
                cap=cap,
                basis=basis,
                drugs=drugs,
                designated_pharmacies=pharmacies,
                hospital_dispensing=bool(item.get("hospital_dispensing", True)),
                carve_out=bool(item.get("carve_out", True)),
                med_types=med_types,
                in_overall_cap=in_overall_cap,
                bmi_deductible_covered=bmi_covered,
                carve_refused=fmt == 1,
            )
        )
    codes = [li.code for li in out]
    if len(set(codes)) != len(codes):
        errs.add("liabilities", "保险责任编码重复 / liability codes must be unique")
    return tuple(out)


def _ratios(errs: Errors, value: Any, path: str, fmt: int) -> Ratios:
    """Format 2: the four ratios written out. Format 1: `default` with optional `pre_existing` and `non_bmi`,
    read as the lowest that applies (its original meaning), i.e. the table of those minimums."""
    raw = read_mapping(errs, value, path)
    keys = RATIO_KINDS if fmt >= 2 else ("default", "pre_existing", "non_bmi")
    for key in raw:
        if key not in keys:
            errs.add(f"{path}.{key}", f"未知比例类型 / unknown ratio kind; one of {', '.join(keys)}")
    got = {key: read_ratio(errs, raw.get(key), f"{path}.{key}") for key in keys}
    required = RATIO_KINDS if fmt >= 2 else ("default",)
    for key in required:
        if raw.get(key) is None:
            errs.add(f"{path}.{key}", "必填 / required")
    if fmt >= 2:
        table = [got[k] or ZERO for k in RATIO_KINDS]
        return Ratios(*table)
    default = got["default"] if got["default"] is not None else ZERO
    pre = min(default, got["pre_existing"] if got["pre_existing"] is not None else default)
    non_bmi = min(default, got["non_bmi"] if got["non_bmi"] is not None else default)
    return Ratios(default, pre, non_bmi, min(pre, non_bmi))


def _format2_terms(
    errs: Errors,
    item: Mapping[str, Any],
    path: str,
    fmt: int,
    kind: LiabilityKind,
    cap: Decimal | None,
) -> tuple[tuple[str, ...] | None, bool, bool]:
    """Visit types, overall-cap membership and the BMI deductible; format 1 has none of them."""
    if fmt < 2:
        for key in _FORMAT2_KEYS:
            if key in item:
                errs.add(f"{path}{key}", "格式 1 不支持此项，请写 format: 2 / needs `format: 2`")
        return None, True, True
    med_types: list[str] = []
    listed = read_sequence(errs, item.get("med_types"), f"{path}med_types")
    if item.get("med_types") is not None and not listed:
        errs.add(f"{path}med_types", "至少一个医疗类别 / at least one med_type")
    for i, raw in enumerate(listed):
        code = str(raw).strip() if isinstance(raw, str | int) and not isinstance(raw, bool) else ""
        if not med_type_known(code):
            errs.add(
                f"{path}med_types[{i}]",
                f"不是医保医疗类别编码 / not an NHSA med_type code: {raw!r} (see docs/claims.md)",
            )
        elif code in med_types:
            errs.add(f"{path}med_types[{i}]", f"医疗类别重复 / med_type {code} listed twice")
        else:
            med_types.append(code)
    in_cap = item.get("in_overall_cap", True)
    if not isinstance(in_cap, bool):
        errs.add(f"{path}in_overall_cap", "应为 true 或 false / must be true or false")
        in_cap = True
    if not in_cap and cap is None:
        errs.add(
            f"{path}cap", "不计入年度总限额的责任须有自己的限额 / outside the overall cap it needs a cap"
        )
    bmi = item.get("bmi_deductible", "covered")
    if bmi not in ("covered", "excluded"):
        errs.add(f"{path}bmi_deductible", "应为 covered 或 excluded / must be covered or excluded")
        bmi = "covered"
    elif "bmi_deductible" in item and kind != LiabilityKind.INLIST_INPATIENT:
        errs.add(f"{path}bmi_deductible", "仅适用于目录内责任 / only for inlist_inpatient liabilities")
    return tuple(med_types), in_cap, bmi == "covered"


def _codes(errs: Errors, value: Any, path: str) -> tuple[str, ...]:
    out: list[str] = []
    for i, raw in enumerate(read_sequence(errs, value, path)):
        code = str(raw).strip() if isinstance(raw, str | int) and not isinstance(raw, bool) else ""
        if not CODE_RE.match(code):
            errs.add(f"{path}[{i}]", f"不是机构编码 / not an organisation code: {raw!r}")
        out.append(code)
    return tuple(out)
