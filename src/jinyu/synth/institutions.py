"""Insurers, hospitals, pharmaceutical companies and government bureaus (the `institutions` dataset).

Hospitals carry a grade; the top ones (by grade, then size) are in the insurers' prepayment scheme, which is
where the one-stop claims later concentrate. Pharmaceutical companies are the biomed chain's producers where
the chain has enough of them, so the same USCC appears as enterprise and as institution.
"""

from __future__ import annotations

import random
from typing import Any

from jinyu.core.districts import CHONGQING, CHONGQING_DISTRICTS
from jinyu.synth import idgen
from jinyu.synth.model import Region
from jinyu.synth.parties import district
from jinyu.synth.vocab import BRAND_CHARS, HOSPITAL_PATTERNS, INSURER_NAMES

# (role, name, USCC department+kind): 11 = government organ, 12 = public institution.
BUREAUS: tuple[tuple[str, str, str], ...] = (
    ("market", "重庆市市场监督管理局", "11"),
    ("tax", "国家税务总局重庆市税务局", "11"),
    ("social", "重庆市人力资源和社会保障局", "11"),
    ("fund", "重庆市住房公积金管理中心", "12"),
    ("ip", "重庆市知识产权局", "11"),
    ("court", "重庆市高级人民法院", "11"),
    ("health", "重庆市卫生健康委员会", "11"),
    ("economy", "重庆市经济和信息化委员会", "11"),
    ("medical_security", "重庆市医疗保障局", "11"),
    ("regulator", "国家金融监督管理总局重庆监管局", "11"),
    ("big_data", "重庆市大数据应用发展管理局", "11"),
)
_GRADES = (("3A", 8), ("3B", 7), ("2A", 20), ("2B", 15), ("1A", 20), ("other", 30))
_GRADE_RANK = {g: i for i, (g, _) in enumerate(_GRADES)}
_COLUMNS = ("org_code", "name", "kind", "district_code", "uscc", "hospital_grade", "in_prepayment")


def build_institutions(region: Region) -> None:
    rng = region.rng("institutions")
    rows: dict[str, list[Any]] = {c: [] for c in _COLUMNS}

    def add(
        code: str,
        name: str,
        kind: str,
        dist: str,
        uscc: str | None,
        grade: str | None = None,
        prepaid: bool | None = None,
    ) -> None:
        for col, value in zip(_COLUMNS, (code, name, kind, dist, uscc, grade, prepaid), strict=True):
            rows[col].append(value)

    for n, (role, name, prefix) in enumerate(BUREAUS, start=1):
        uscc = idgen.make_uscc(rng, region.used_usccs, CHONGQING, prefix[0], prefix[1])
        region.bureaus[role] = (uscc, name)
        add(f"G{n:04d}", name, "bureau", CHONGQING, uscc)
    for n in range(region.scale.insurers):
        name = INSURER_NAMES[n % len(INSURER_NAMES)] + (
            "股份有限公司" if n < len(INSURER_NAMES) else f"{n}号公司"
        )
        add(f"I{n + 1:04d}", name, "insurer", "500103", idgen.make_uscc(rng, region.used_usccs, "500103"))
    for n, (name, dist, uscc) in enumerate(_pharma(region, rng), start=1):
        add(f"P{n:04d}", name, "pharma", dist, uscc)
    for n, (name, dist, uscc, grade, prepaid) in enumerate(_hospitals(region, rng), start=1):
        add(f"H{n:05d}", name, "hospital", dist, uscc, grade, prepaid)
    region.tables["institutions"] = rows


def _pharma(region: Region, rng: random.Random) -> list[tuple[str, str, str]]:
    makers = [e for e in region.enterprises if e.chain == "biomed" and e.segment in ("core", "upstream")]
    makers.sort(key=lambda e: -e.size)
    chosen = [(e.name, e.district, e.uscc) for e in makers[: region.scale.pharma]]
    while len(chosen) < region.scale.pharma:
        dist = district(rng)
        name = f"重庆{rng.choice(BRAND_CHARS)}{rng.choice(BRAND_CHARS)}药业有限公司"
        chosen.append((name, dist, idgen.make_uscc(rng, region.used_usccs, dist)))
    return chosen


def _hospitals(region: Region, rng: random.Random) -> list[tuple[str, str, str, str, bool]]:
    count = region.scale.hospitals
    grades, weights = zip(*_GRADES, strict=True)
    names: set[str] = set()
    drafts: list[tuple[str, str, str, str, float]] = []
    while len(drafts) < count:
        dist = district(rng)
        pattern = rng.choice(HOSPITAL_PATTERNS)
        brand = rng.choice(BRAND_CHARS) + rng.choice(BRAND_CHARS)
        name = "重庆" + pattern.format(d=CHONGQING_DISTRICTS[dist], b=brand)
        if name in names:
            continue
        names.add(name)
        grade = rng.choices(grades, weights)[0]
        # Public hospitals are public institutions (12...), private ones private non-enterprise units (52...).
        dept, kind = ("1", "2") if rng.random() < 0.7 else ("5", "2")
        uscc = idgen.make_uscc(rng, region.used_usccs, dist, dept, kind)
        drafts.append((name, dist, uscc, grade, rng.paretovariate(1.2)))
    # The insurers prepay the hospitals where most claims concentrate: the best graded and busiest ones. The
    # busiest hospitals are tertiary ones, also in a small region.
    prepaid_count = min(40, max(3, count // 50))
    for i in sorted(range(count), key=lambda i: -drafts[i][4])[:prepaid_count]:
        if drafts[i][3] not in ("3A", "3B"):
            drafts[i] = (*drafts[i][:3], "3A", drafts[i][4])
    ranked = sorted(range(count), key=lambda i: (_GRADE_RANK[drafts[i][3]], -drafts[i][4]))
    prepaid = set(ranked[:prepaid_count])
    return [(name, dist, uscc, grade, i in prepaid) for i, (name, dist, uscc, grade, _) in enumerate(drafts)]
