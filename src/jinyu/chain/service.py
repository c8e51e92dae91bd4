"""Use cases of industrial-chain analytics for the regulator: definitions, members, flows, gaps, network
position and loans (suppliers' and dealers' health and contagion: `chain.counterparties`). Every read is
authorised and audited.

Takes the session first, then the principal; never commits (the boundary does)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path

from sqlalchemy.orm import Session

from jinyu.analytics import Engine, ResultCache, shared_results
from jinyu.audit import service as audit
from jinyu.chain import (
    catalogue,
    definitions,
    id_links,
    kept_links,
    loans,
    pairs,
    reads,
    resident,
    rules,
    stored,
)
from jinyu.chain import queries as q
from jinyu.chain.definitions import ChainDef, Parameters
from jinyu.chain.schemas import (
    ChainOut,
    CoreOut,
    ExternalFlow,
    FlowsOut,
    GapOut,
    LoansOut,
    MemberOut,
    NetworkOut,
    SegmentFlow,
    SegmentNet,
    SegmentOut,
)
from jinyu.core.auth import Perm, Principal
from jinyu.core.errors import invalid
from jinyu.core.pagination import Page

MAX_WINDOW_MONTHS = 60


def audit_read(session: Session, principal: Principal, action: str, ids: list[str], **detail: object) -> None:
    audit.record(
        session, principal, action=f"chain.{action}", subject_type="chain", subject_ids=ids, detail=detail
    )


def _window(from_month: str, to_month: str) -> None:
    span = rules.months_between(from_month, to_month)
    if span < 0:
        raise invalid("to_month", "结束月份不能早于开始月份 / to_month must not be before from_month")
    if span >= MAX_WINDOW_MONTHS:
        raise invalid("to_month", f"窗口最长 {MAX_WINDOW_MONTHS} 个月 / at most {MAX_WINDOW_MONTHS} months")


def readable_chain(principal: Principal, code: str) -> ChainDef:
    principal.require(Perm.CHAIN_READ)
    return definitions.load().chain(code)


def segment_overrides(session: Session, *codes: str) -> str:
    """`$segment_overrides` of the named chains' current definition versions (every chain without names): the
    regulator's per-enterprise segments, which every segment-grouping query applies over the dataset's."""
    chosen = codes or tuple(c.code for c in definitions.load().chains)
    return q.overrides_param({c: catalogue.current(session, c)[1] for c in chosen})


def segment_member_counts(engine: Engine, overrides: str) -> dict[str, dict[str, int]]:
    """Members per chain and segment, with the given segment overrides (what the chains list and a chain page
    show; the scheduler warms it with the same arguments)."""
    out: dict[str, dict[str, int]] = {}
    for r in q.rows(engine, "chain_segment_counts", segment_overrides=overrides):
        out.setdefault(str(r["chain_code"]), {})[str(r["segment"])] = int(str(r["members"]))
    return out


def _chain_out(chain: ChainDef, counts: Mapping[str, int]) -> ChainOut:
    segments = [
        SegmentOut(
            code=s.code,
            name=s.name,
            name_en=s.name_en,
            order=i + 1,
            industries=list(s.industries),
            members=counts.get(s.code, 0),
        )
        for i, s in enumerate(chain.segments)
    ]
    return ChainOut(
        code=chain.code,
        name=chain.name,
        name_en=chain.name_en,
        chief_bank_name=chain.chief_bank_name,
        members=sum(counts.values()),
        segments=segments,
    )


def list_chains(session: Session, principal: Principal, engine: Engine) -> list[ChainOut]:
    principal.require(Perm.CHAIN_READ)
    counts = segment_member_counts(engine, segment_overrides(session))
    chains = [_chain_out(c, counts.get(c.code, {})) for c in catalogue.current_all(session)]
    audit_read(session, principal, "list", [c.code for c in chains])
    return chains


def get_chain(session: Session, principal: Principal, engine: Engine, code: str) -> ChainOut:
    principal.require(Perm.CHAIN_READ)
    chain, _ = catalogue.current(session, code)
    audit_read(session, principal, "read", [code])
    return _chain_out(chain, segment_member_counts(engine, segment_overrides(session, code)).get(code, {}))


def list_members(
    session: Session,
    principal: Principal,
    engine: Engine,
    code: str,
    segment: str | None,
    limit: int,
    offset: int,
) -> Page[MemberOut]:
    principal.require(Perm.CHAIN_READ)
    chain, overrides = catalogue.current(session, code)
    if segment and segment not in chain.segment_codes:
        raise invalid("segment", f"应为 / must be one of {', '.join(chain.segment_codes)}")
    rows = q.rows(
        engine,
        "chain_member_list",
        chain_code=code,
        segment=segment or "",
        limit=limit,
        offset=offset,
        segment_overrides=q.overrides_param({code: overrides}),
    )
    total = int(str(rows[0]["total"])) if rows else 0
    items = [
        MemberOut.model_validate(
            {
                **r,
                "mapped_segment": rules.segment_for(chain, _text(r["industry_code"])),
            }
        )
        for r in rows
    ]
    audit_read(session, principal, "members.list", [code], segment=segment, count=len(items), offset=offset)
    return Page[MemberOut](items=items, total=total, limit=limit, offset=offset)


def flows(
    session: Session, principal: Principal, engine: Engine, code: str, from_month: str, to_month: str
) -> FlowsOut:
    readable_chain(principal, code)
    _window(from_month, to_month)
    # A plain engine reads the member-pair sums when they are current; the page's reads choose per month.
    rows = q.rows(
        engine,
        pairs.flows_query(engine, getattr(engine, "lake_root", None), from_month, to_month),
        chain_code=code,
        from_month=from_month,
        to_month=to_month,
        segment_overrides=segment_overrides(session, code),
    )
    net = [SegmentNet(month=m, segment=s, **v) for (m, s), v in sorted(rules.net_flows(rows).items())]
    audit_read(session, principal, "flows.read", [code], from_month=from_month, to_month=to_month)
    return FlowsOut(
        chain_code=code,
        from_month=from_month,
        to_month=to_month,
        flows=[SegmentFlow.model_validate(r) for r in rows],
        net=net,
    )


def external_flows(
    session: Session, principal: Principal, engine: Engine, code: str, from_month: str, to_month: str
) -> list[ExternalFlow]:
    readable_chain(principal, code)
    _window(from_month, to_month)
    rows = _external_rows(session, engine, code, from_month, to_month)
    audit_read(session, principal, "external_flows.read", [code], from_month=from_month, to_month=to_month)
    return [ExternalFlow.model_validate(r) for r in rows]


def gaps(
    session: Session, principal: Principal, engine: Engine, code: str, from_month: str, to_month: str
) -> list[GapOut]:
    chain = readable_chain(principal, code)
    _window(from_month, to_month)
    rows = _external_rows(session, engine, code, from_month, to_month)
    counts = segment_member_counts(engine, segment_overrides(session, code)).get(code, {})
    found = rules.gaps(chain, counts, rows, definitions.load().parameters)
    audit_read(session, principal, "gaps.read", [code], from_month=from_month, to_month=to_month)
    return [GapOut.model_validate(g) for g in found]


def _external_rows(
    session: Session, engine: Engine, code: str, from_month: str, to_month: str
) -> list[dict[str, object]]:
    return q.rows(
        engine,
        "chain_external_flows",
        chain_code=code,
        from_month=from_month,
        to_month=to_month,
        segment_overrides=segment_overrides(session, code),
    )


def member_rows(engine: Engine, code: str, overrides: str) -> dict[str, dict[str, object]]:
    """Every member of the chain by USCC, `segment` the effective one under `overrides`
    (`segment_overrides`; "" gives the dataset's, enough where only membership counts)."""
    rows = q.rows(
        engine,
        "chain_member_list",
        chain_code=code,
        segment="",
        limit=q.ALL_MEMBERS,
        offset=0,
        segment_overrides=overrides,
    )
    return {str(r["uscc"]): r for r in rows}


def link_rows(engine: Engine, code: str, from_month: str, to_month: str) -> list[dict[str, object]]:
    return q.rows(engine, "chain_member_links", chain_code=code, from_month=from_month, to_month=to_month)


def recent_links(engine: Engine, code: str, as_of_month: str, months: int) -> list[dict[str, object]]:
    return link_rows(engine, code, rules.add_months(as_of_month, 1 - months), as_of_month)


def network_links(
    engine: Engine, code: str, as_of_month: str, p: Parameters
) -> dict[tuple[str, str], Decimal]:
    """The decayed supply network as of the month: the stored build (`jinyu chain network-build`) when there is
    one for the current parameters, else computed from the month's transfers (the same weights either way)."""
    links = stored.stored_links(engine, code, as_of_month, p)
    if links is not None:
        return links
    return rules.decayed_links(
        recent_links(engine, code, as_of_month, p.network_window_months), as_of_month, p.decay_per_month
    )


def ranked_network(engine: Engine, code: str, as_of_month: str, p: Parameters) -> resident.Ranked:
    """Every node of the network as of the month by position. A stored month's ranking is computed once per
    build: held in memory (`jinyu.chain.resident`) and kept in the results store beside the lake, where the
    build wrote it before appending (`jinyu.chain.scheduler`) and every other worker reads it; a month without
    one (built before, by a command that did not rank it) is ranked here once and kept there."""
    stamp = stored.current_stamp(engine, code, as_of_month, p)
    if stamp is None:  # never built with these parameters: computed from the links
        return _computed_ranking(engine, code, as_of_month, p)
    key = resident_key(code, as_of_month, stamp, p)
    held = resident.get(key)
    if held is not None:
        return held
    store = ranking_store(engine)
    ranked = resident.load(store, key) if store is not None else None
    if ranked is None:
        ranked = _rank_stored(engine, code, as_of_month, p, stamp)
        if store is not None:
            resident.keep(store, key, ranked)
    resident.put(key, ranked)
    return ranked


def _computed_ranking(engine: Engine, code: str, as_of_month: str, p: Parameters) -> resident.Ranked:
    """A month never built, ranked from its links; held in memory (`resident.computed`) when the engine names
    the links' answer by the lake files it comes from (the chain page's reads on the shared answers,
    `reads.answer_key`): the same files give the same links, so the same ranking; a load names them anew."""
    window = {
        "chain_code": code,
        "from_month": rules.add_months(as_of_month, 1 - p.network_window_months),
        "to_month": as_of_month,
    }
    links = reads.answer_key(engine, reads.LINKS, window)
    key = None
    if links is not None and stored.stored_links(engine, code, as_of_month, p) is None:
        key = (
            code,
            as_of_month,
            links,
            str(p.decay_per_month),
            p.network_window_months,
            p.betweenness_max_nodes,
        )
        held = resident.computed(key)
        if held is not None:
            return held
    ranked = rank_links(network_links(engine, code, as_of_month, p), p)
    if key is not None:
        resident.hold_computed(key, ranked)
    return ranked


def _rank_stored(
    engine: Engine, code: str, as_of_month: str, p: Parameters, built_at: dt.datetime
) -> resident.Ranked:
    """A stored month ranked from its links' node ids as arrays: those the build kept beside the lake
    (`jinyu.chain.kept_links`, no lake read), else the build's rows in the lake, else from the names (a lake
    written before the ids): the same ranking every way (`jinyu.chain.id_links`)."""
    store = ranking_store(engine)
    links = kept_links.load(store, code, as_of_month, built_at) if store is not None else None
    if links is None:
        table = stored.stored_id_links(engine, _lake_root(engine), code, as_of_month, built_at)
        links = id_links.from_table(table) if table is not None else None
    if links is not None:
        return rank_id_links(links, p)
    return rank_links(network_links(engine, code, as_of_month, p), p)


def _lake_root(engine: Engine) -> Path | None:
    inner = getattr(
        engine, "engine", engine
    )  # `reads.PageReads` (the chain page) answers for the app's engine
    root = getattr(inner, "lake_root", None)
    return root if isinstance(root, Path) else None


def ranking_store(engine: Engine) -> ResultCache | None:
    """The results store beside the engine's lake (`shared_results`), where stored months' rankings are kept
    for every worker; None for an engine without a lake directory of its own."""
    root = _lake_root(engine)
    return shared_results(root) if root is not None else None


def resident_key(code: str, as_of_month: str, built_at: dt.datetime, p: Parameters) -> resident.Key:
    """The key of a stored month's ranking in `jinyu.chain.resident`: its build's time and the parameters."""
    return (
        code,
        as_of_month,
        built_at,
        str(p.decay_per_month),
        p.network_window_months,
        p.betweenness_max_nodes,
    )


def rank_links(links: Mapping[tuple[str, str], Decimal], p: Parameters) -> resident.Ranked:
    """Every node of a network of decayed links by position (`ranked_network`'s answer for those links): the
    links numbered in USCC order and ranked as a stored build's ids are (`id_links.from_names`)."""
    return rank_id_links(id_links.from_names(links), p)


def rank_id_links(links: id_links.IdLinks, p: Parameters) -> resident.Ranked:
    """`rank_links` of a stored month's links given as node-id arrays, as columns (`id_links.ranked`): by
    PageRank (supplier) descending, then USCC."""
    return id_links.ranked(links, p.betweenness_max_nodes)


def network_position(
    session: Session, principal: Principal, engine: Engine, code: str, as_of_month: str, top: int
) -> NetworkOut:
    readable_chain(principal, code)
    p = definitions.load().parameters
    found = ranked_network(engine, code, as_of_month, p)
    members = member_rows(engine, code, segment_overrides(session, code))
    items = [  # the first `top` members of the ranking (the others are never shown)
        CoreOut(
            uscc=c.uscc,
            name=member_name(members, c.uscc),
            segment=member_segment(members, c.uscc),
            is_core=bool(members.get(c.uscc, {}).get("is_core")),
            pagerank_supplier=round(c.pagerank_supplier, 6),
            pagerank_buyer=round(c.pagerank_buyer, 6),
            betweenness=None if c.betweenness is None else round(c.betweenness, 3),
            paid=c.paid,
            received=c.received,
        )
        for c in found.first(top, members)  # the first `top` members: rows made for those only
    ]
    nodes = found.nodes
    audit_read(session, principal, "network.read", [code], as_of_month=as_of_month)
    return NetworkOut(
        chain_code=code,
        as_of_month=as_of_month,
        window_months=p.network_window_months,
        decay_per_month=p.decay_per_month,
        nodes=nodes,
        links=found.links,
        betweenness_computed=nodes <= p.betweenness_max_nodes,
        ranking=items,
    )


def _text(v: object) -> str | None:
    return None if v is None else str(v)


def member_name(members: Mapping[str, Mapping[str, object]], uscc: str) -> str | None:
    v = members.get(uscc, {}).get("name")
    return None if v is None else str(v)


def member_segment(members: Mapping[str, Mapping[str, object]], uscc: str) -> str | None:
    v = members.get(uscc, {}).get("segment")
    return None if v is None else str(v)


def chain_loans(
    session: Session, principal: Principal, engine: Engine, code: str, from_month: str, to_month: str
) -> LoansOut:
    chain = readable_chain(principal, code)
    _window(from_month, to_month)
    window = {
        "chain_code": code,
        "from_month": from_month,
        "to_month": to_month,
        "segment_overrides": segment_overrides(session, code),
    }
    summary = loans.summarise(
        q.rows(engine, "chain_loans", **window),
        q.rows(engine, "chain_credit_coverage", **window),
        definitions.load().parameters,
        chain.chief_bank_name,
    )
    audit_read(session, principal, "loans.read", [code], from_month=from_month, to_month=to_month)
    return LoansOut(chain_code=code, from_month=from_month, to_month=to_month, **summary)
