"""One-loan return flow over the API (GET /api/v1/risk/loans/{id}/return-flow): login, access, trace, evidence,
inquiry record and audit — the whole request through the app (in-process ASGI client, SQLite store).

Against a lake written by bench_tracing.py (`--region-dir`): a bank head office and one of its risk users are
created, the resident transfer index and the resident context are built first (as a serving process warms
them), then --loans sampled loans of that bank are requested in turn. In the same run the same loans are
requested with the context from the per-loan statements (the code before issue 19: hops resident, loan and
related parties from the serving engine's statements), interleaved loan by loan, and the ratio is reported.
A third variant is the code before the refund transfers and the per-request listing were made resident
(issue 19, last part): the resident context, but the refund rule's statement on the lake for every loan with
a candidate pair and the lake's files listed at every freshness check (`Stores.pinned` disabled).
The machine is shared: the load average is recorded at the start and the end.

Usage: python benchmarks/bench_tracing_api.py --lake /tmp/region/lake [--loans 200] [--out tracing-api-medium.json]
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import machine_info
from tracing_support import _loans, _ms, _pct

from jinyu.analytics.flowindex import shared_indexes
from jinyu.risk.tracing.service import base, context, refund

RESULTS = Path(__file__).resolve().parent / "results"
PASSWORD = "bench-password-0123456789"


class _SqlRefunds:
    """A resident context whose refund transfers come from the lake's statement (the previous code)."""

    def __init__(self, inner: context.ResidentContext, engine: Any) -> None:
        self.inner, self.engine = inner, engine

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    statements = 0

    def pair_movements(self, pairs: Any, window: Any, months: Any) -> Any:
        _SqlRefunds.statements += 1
        return refund.pair_movements(self.engine, pairs, window, months)


class _Previous(context.ResidentContexts):
    def __init__(self, inner: context.ResidentContexts, engine: Any) -> None:
        super().__init__()
        self.inner, self.engine = inner, engine

    def get(self, lake_root: Path, listing: object = None) -> context.ResidentContext | None:
        found = self.inner.get(lake_root)  # lists the lake again, as every check did before
        return _SqlRefunds(found, self.engine) if found is not None else None  # type: ignore[return-value]


class _Statements(context.ResidentContexts):
    def get(self, lake_root: Path, listing: object = None) -> context.ResidentContext | None:
        return None


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--lake", type=Path, required=True)
    parser.add_argument("--loans", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", default="tracing-api.json", help="file name under benchmarks/results/")
    args = parser.parse_args()
    from fastapi.testclient import TestClient
    from pydantic import SecretStr

    from jinyu.app import create_app
    from jinyu.config import load_settings
    from jinyu.core.auth import SYSTEM, OrgKind, Role
    from jinyu.core.runtime import sessionmaker_for, unit_of_work
    from jinyu.migrate import upgrade
    from jinyu.party import service as party
    from jinyu.party.schemas import OrgCreate, UserCreate

    loans = _loans(args.lake)
    head = collections.Counter(str(x["head"]) for x in loans).most_common(1)[0][0]
    mine = [x for x in loans if x["head"] == head]
    sample = random.Random(args.seed).sample(mine, min(args.loans, len(mine)))
    result: dict[str, Any] = {"benchmark": "tracing-api", "lake": str(args.lake), "bank": head}
    result["load_average_start"] = [round(x, 2) for x in os.getloadavg()]
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        data.mkdir()
        (data / "lake").symlink_to(args.lake.resolve())
        settings = load_settings(data_dir=data, tracing_warm=False)
        upgrade(settings)
        with unit_of_work(settings) as session:
            org = party.create_org(session, SYSTEM, OrgCreate(kind=OrgKind.BANK_HEAD_OFFICE, code=head,
                                                              name="bench bank", district_code="500101"))  # fmt: skip
            party.create_user(session, SYSTEM, UserCreate(username="bench-risk", display_name="bench", org_id=org.id,
                              roles=[Role.BANK_HQ_RISK], password=SecretStr(PASSWORD)))  # fmt: skip
        app = create_app(settings, factory=sessionmaker_for(settings))
        with TestClient(app) as client:
            token = client.post("/api/v1/auth/token", data={"username": "bench-risk", "password": PASSWORD})
            headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
            started = time.perf_counter()
            shared_indexes().warm(settings.lake_dir)
            shared_indexes().wait()
            resident = context.shared_contexts()
            resident.get(settings.lake_dir)
            resident.wait()
            assert resident.get(settings.lake_dir) is not None
            result["warm_seconds"] = round(time.perf_counter() - started, 1)
            statements = _Statements()
            from jinyu.analytics import DuckDBEngine

            lake_engine = DuckDBEngine(settings.lake_dir)
            previous = _Previous(resident, lake_engine)
            pinned = base.Stores.pinned
            names = ("resident_context", "statement_context", "previous_code")
            times: dict[str, list[float]] = {name: [] for name in names}
            bodies: dict[str, dict[str, Any]] = {name: {} for name in names}
            for n, item in enumerate([sample[0], *sample]):  # the first request warms the views
                for name, holder in zip(names, (resident, statements, previous), strict=True):
                    context._SHARED = holder
                    base.Stores.pinned = pinned if name == "resident_context" else lambda self: self  # type: ignore[method-assign]
                    t0 = time.perf_counter()
                    resp = client.get(f"/api/v1/risk/loans/{item['loan_id']}/return-flow", headers=headers)
                    elapsed = time.perf_counter() - t0
                    assert resp.status_code == 200, resp.text
                    if n:
                        times[name].append(elapsed)
                        body = resp.json()
                        bodies[name][item["loan_id"]] = {k: body[k] for k in ("verdict", "returned_amount",
                                                                               "by_relation", "evidence")}  # fmt: skip
            context._SHARED = resident
            base.Stores.pinned = pinned  # type: ignore[method-assign]
            lake_engine.close()
    for name, values in times.items():
        result[name] = {"requests": len(values), "p50_ms": _ms(statistics.median(values)),
                        "p95_ms": _ms(_pct(values, 95)), "max_ms": _ms(max(values))}  # fmt: skip
    result["identical_responses"] = (
        bodies["resident_context"] == bodies["statement_context"] == bodies["previous_code"]
    )
    result["ratio_p50"] = round(
        result["statement_context"]["p50_ms"] / result["resident_context"]["p50_ms"], 1
    )
    result["ratio_p95"] = round(
        result["statement_context"]["p95_ms"] / result["resident_context"]["p95_ms"], 1
    )
    for q in ("p50", "p95"):
        result[f"ratio_previous_{q}"] = round(
            result["previous_code"][f"{q}_ms"] / result["resident_context"][f"{q}_ms"], 2
        )
    result["previous_code_refund_statements"] = _SqlRefunds.statements  # requests with a candidate pair
    result["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    result["machine"] = machine_info()
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / args.out
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2, ensure_ascii=False, default=str))


if __name__ == "__main__":
    main()
