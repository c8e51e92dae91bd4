"""Persons and enterprises: identities, chains, shareholders, the supply network and who works where.

Related-party structure is deliberate: some enterprises share a legal representative, an address or a phone,
and some hold shares in others, because related-party detection runs on exactly these links.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from itertools import accumulate, pairwise
from typing import Any

from jinyu.core.districts import CHONGQING_DISTRICTS
from jinyu.synth import idgen
from jinyu.synth.chains import BACKGROUND, CHAINS, PROCESSOR_INDUSTRY, SECURITIES_INDUSTRY
from jinyu.synth.model import Enterprise, Region
from jinyu.synth.vocab import BRAND_CHARS, COMPANY_SUFFIXES, INDUSTRY_WORDS, ROADS

_URBAN = {"500103", "500105", "500106", "500107", "500108", "500112", "500109", "500113"}
DISTRICTS = tuple(CHONGQING_DISTRICTS)
DISTRICT_CUM_WEIGHTS = tuple(accumulate(6.0 if d in _URBAN else 1.0 for d in DISTRICTS))
# Birthplaces outside Chongqing: Chengdu, Wuhan, Beijing, Shanghai, Shenzhen, Kunming, Guiyang.
_OTHER_REGIONS = ("510104", "510107", "420106", "110105", "310115", "440305", "530102", "520102")


def district(rng: random.Random) -> str:
    return rng.choices(DISTRICTS, cum_weights=DISTRICT_CUM_WEIGHTS)[0]


def build_persons(region: Region) -> None:
    rng = region.rng("persons")
    people, ref = region.persons, region.calendar.end
    for _ in range(region.scale.persons):
        # Most residents were born in Chongqing; IDs of those born before 1997 keep their 500xxx birth code.
        birthplace = district(rng) if rng.random() < 0.85 else rng.choice(_OTHER_REGIONS)
        born = idgen.birth_date(rng, ref, 20, 65)
        people.ids.append(idgen.make_resident_id(rng, region.used_person_ids, birthplace, born))
        people.names.append(idgen.person_name(rng))
        people.phones.append(idgen.mobile(rng))


def _plan(rng: random.Random, n: int) -> list[tuple[str, str, str | None, str | None, bool]]:
    """(industry, kind, chain, segment, is_core) for each enterprise; chain members first."""
    plan: list[tuple[str, str, str | None, str | None, bool]] = []
    for chain in CHAINS:
        members = max(len(chain.segments) * 2, round(n * chain.share))
        for seg in chain.segments:
            count = max(2, round(members * seg.share))
            for i in range(count):
                core = seg.name == chain.core_segment and i == 0
                plan.append((rng.choice(seg.industries), "general", chain.code, seg.name, core))
    specials = [(PROCESSOR_INDUSTRY, "processor")] * (2 if n < 1000 else 3)
    specials += [(SECURITIES_INDUSTRY, "securities")] * (2 if n < 1000 else 4)
    plan += [(code, kind, None, None, False) for code, kind in specials]
    codes, kinds, weights = zip(*BACKGROUND, strict=True)
    cum = tuple(accumulate(weights))
    while len(plan) < n:
        k = rng.choices(range(len(codes)), cum_weights=cum)[0]
        plan.append((codes[k], kinds[k], None, None, False))
    return plan


def _unique_name(rng: random.Random, used: set[str], industry: str, district_code: str) -> str:
    words = INDUSTRY_WORDS.get(industry, ("实业",))
    for attempt in range(50):
        brand = rng.choice(BRAND_CHARS) + rng.choice(BRAND_CHARS)
        place = "重庆" if attempt < 10 else "重庆" + CHONGQING_DISTRICTS[district_code].rstrip("区县")
        name = f"{place}{brand}{rng.choice(words)}{rng.choice(COMPANY_SUFFIXES)}"
        if name not in used:
            used.add(name)
            return name
    raise RuntimeError("enterprise name space exhausted")  # pragma: no cover - 50 tries over ~10^6 names


def build_enterprises(region: Region) -> None:
    rng = region.rng("enterprises")
    cal, n = region.calendar, region.scale.enterprises
    reps = rng.sample(range(len(region.persons)), n)
    names: set[str] = set()
    for idx, (industry, kind, chain, segment, core) in enumerate(_plan(rng, n)):
        dist = district(rng)
        size, established, status = _life(rng, region, kind, chain, core)
        start = max(0, cal.month_of(established) + 1)
        ent = Enterprise(
            idx=idx,
            uscc=idgen.make_uscc(rng, region.used_usccs, dist),
            name=_unique_name(rng, names, industry, dist),
            industry=industry,
            district=dist,
            capital_cents=_capital(rng, size),
            established=established,
            address="",
            phone=None,
            rep=reps[idx],
            status=status,
            size=size,
            kind=kind,
            start_month=start,
            end_month=cal.months - 1 if status == "active" else max(start, rng.randint(3, 22)),
            chain=chain,
            segment=segment,
            is_core=core,
            general_taxpayer=size >= 30 or rng.random() < 0.2,
        )
        _contacts(rng, region.enterprises, ent)
        region.enterprises.append(ent)


def _life(
    rng: random.Random, region: Region, kind: str, chain: str | None, core: bool
) -> tuple[float, dt.date, str]:
    """Head-count (Pareto: most firms are tiny, a few are huge), founding date and registration status."""
    size = min(20000.0, 3.0 * rng.paretovariate(1.15))
    if core:
        size = next(c.core_size for c in CHAINS if c.code == chain)
    elif kind in ("processor", "securities"):
        size = max(size, 300.0)
    years = 6.0 if core else min(30.0, 0.5 + rng.expovariate(1 / 9))
    established = region.calendar.end - dt.timedelta(days=int(years * 365.25) + rng.randrange(30))
    status = "active"
    if chain is None and kind not in ("processor", "securities"):
        status = rng.choices(("active", "revoked", "cancelled"), (93, 4, 3))[0]
    return size, established, status


def _capital(rng: random.Random, size: float) -> int:
    yuan = math.exp(rng.gauss(math.log(1_000_000) + 0.6 * math.log(max(size, 1) / 10), 0.8))
    return max(10_000, int(round(yuan, -4))) * 100  # registered capital is declared in round ten-thousands


def _contacts(rng: random.Random, earlier: list[Enterprise], ent: Enterprise) -> None:
    """Address, phone and legal representative, some of them shared with an earlier enterprise."""
    if earlier and rng.random() < 0.03:
        ent.address = rng.choice(earlier).address  # registered-address agents host many firms
    else:
        floor = f"{rng.randint(1, 32)}楼{rng.randint(1, 20):02d}号" if rng.random() < 0.6 else ""
        ent.address = (
            f"重庆市{CHONGQING_DISTRICTS[ent.district]}{rng.choice(ROADS)}{rng.randint(1, 399)}号{floor}"
        )
    roll = rng.random()
    if earlier and roll < 0.03:
        ent.phone = rng.choice(earlier).phone or idgen.landline(rng)
    elif roll < 0.63:
        ent.phone = idgen.landline(rng)
    elif roll < 0.92:
        ent.phone = idgen.mobile(rng)
    if earlier and not ent.is_core and rng.random() < 0.05:
        ent.rep = rng.choice(earlier).rep  # one person representing several firms


def build_shareholders(region: Region) -> None:
    rng = region.rng("shareholders")
    ents, people = region.enterprises, region.persons
    rows: dict[str, list[Any]] = {
        k: [] for k in ("uscc", "holder_type", "holder_id", "holder_name", "share_ratio")
    }
    for ent in ents:
        holders: list[tuple[str, str, str]] = []
        if rng.random() < 0.75 or ent.is_core:
            holders.append(("person", people.ids[ent.rep], people.names[ent.rep]))
        if ent.idx > 0 and rng.random() < 0.15:
            parent = ents[rng.randrange(ent.idx)]  # a parent or sister company in the region
            holders.append(("enterprise", parent.uscc, parent.name))
        for _ in range(rng.choice((0, 0, 1, 1, 2)) if holders else rng.randint(1, 2)):
            p = rng.randrange(len(people))
            holders.append(("person", people.ids[p], people.names[p]))
        unique: list[tuple[str, str, str]] = []
        for holder in holders:  # the same person may be drawn twice; the register keys on (uscc, holder)
            if all(holder[1] != u[1] for u in unique):
                unique.append(holder)
        for (kind, hid, hname), bp in zip(unique, _split_basis_points(rng, len(unique)), strict=True):
            for key, value in zip(rows, (ent.uscc, kind, hid, hname, bp), strict=True):
                rows[key].append(value)
    region.tables["shareholders"] = rows


def _split_basis_points(rng: random.Random, parts: int) -> list[int]:
    """Shares in hundredths of a percent summing to exactly 100.00, the first holder the largest."""
    weights = sorted((rng.paretovariate(1.0) for _ in range(parts)), reverse=True)
    shares = [int(10_000 * w / sum(weights)) for w in weights]
    shares[0] += 10_000 - sum(shares)
    return shares


def build_supply_network(region: Region) -> None:
    """Who buys from whom: along each chain one segment back, and a preferential network for the rest."""
    rng = region.rng("supply")
    ents = region.enterprises
    for chain in CHAINS:
        by_seg = [[e for e in ents if e.chain == chain.code and e.segment == s.name] for s in chain.segments]
        for upstream, downstream in pairwise(by_seg):
            cum = list(accumulate(e.size for e in upstream))
            for buyer in downstream:
                k = min(len(upstream), 1 + int(rng.paretovariate(1.5)) + (8 if buyer.is_core else 0))
                buyer.suppliers.extend(_weighted_distinct(rng, upstream, cum, k))
            bought = {s for b in downstream for s in b.suppliers}
            for seller in upstream:  # every supplier has at least one buyer
                if seller.idx not in bought:
                    rng.choice(downstream).suppliers.append(seller.idx)
    # Chain members trade with each other only along the chain, so chain flows stay clean for monitoring.
    sellers = [e for e in ents if e.kind in ("general", "services", "construction") and e.chain is None]
    cum = list(accumulate(e.size**0.8 for e in sellers))
    for ent in ents:
        if ent.kind in ("processor", "securities"):
            continue
        k = 0 if ent.chain and rng.random() < 0.5 else 1 + int(rng.paretovariate(1.3))
        picks = _weighted_distinct(rng, sellers, cum, min(k, 6))
        ent.suppliers.extend(p for p in picks if p != ent.idx and p not in ent.suppliers)


def _weighted_distinct(rng: random.Random, pool: list[Enterprise], cum: list[float], k: int) -> list[int]:
    """Up to k distinct enterprises drawn by cumulative weight (big ones are picked more often)."""
    chosen: list[int] = []
    for _ in range(k * 4):
        if len(chosen) >= k:
            break
        pick = rng.choices(pool, cum_weights=cum)[0].idx
        if pick not in chosen:
            chosen.append(pick)
    return chosen


def assign_employees(region: Region) -> None:
    """Spread `scale.employees` persons over enterprises in proportion to head-count, at most one job each."""
    rng = region.rng("employees")
    ents = [e for e in region.enterprises if e.kind not in ("processor",)]
    total = sum(e.size for e in ents)
    workers = rng.sample(range(len(region.persons)), min(region.scale.employees, len(region.persons)))
    cursor = 0
    for ent in sorted(ents, key=lambda e: -e.size):
        quota = min(math.ceil(ent.size), round(len(workers) * ent.size / total) or int(rng.random() < 0.5))
        ent.employees = workers[cursor : cursor + quota]
        cursor += len(ent.employees)
    for w in workers[cursor:]:  # rounding leftovers go to random employers
        rng.choice(ents).employees.append(w)


def enterprise_table(region: Region) -> dict[str, list[Any]]:
    people = region.persons
    ents = region.enterprises
    return {
        "uscc": [e.uscc for e in ents],
        "name": [e.name for e in ents],
        "industry_code": [e.industry for e in ents],
        "district_code": [e.district for e in ents],
        "registered_capital": [e.capital_cents for e in ents],
        "established_on": [e.established for e in ents],
        "address": [e.address for e in ents],
        "phone": [e.phone for e in ents],
        "legal_rep_id": [people.ids[e.rep] for e in ents],
        "legal_rep_name": [people.names[e.rep] for e in ents],
        "status": [e.status for e in ents],
    }


def chain_member_table(region: Region) -> dict[str, list[Any]]:
    names = {c.code: c.name for c in CHAINS}
    members = [e for e in region.enterprises if e.chain]
    return {
        "chain_code": [e.chain for e in members],
        "chain_name": [names[e.chain or ""] for e in members],
        "segment": [e.segment for e in members],
        "uscc": [e.uscc for e in members],
        "is_core": [e.is_core for e in members],
    }
