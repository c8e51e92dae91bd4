"""How long the console's pages take to render, per demo user, against GET /healthz in the same run.

Issue 18's goal: pages render in under 300 ms. The data dir is prepared as `jinyu demo` prepares it (the
synthetic region loaded through ingestion, one user per role, consents, claims product and prepaid books); each
demo user logs in through the console's login form; every page their role may open is fetched N times,
interleaved with the baseline, in process (Starlette's TestClient: no network, the whole app and database
path). Figures: median and p95 milliseconds per page and the median's ratio to the baseline's.

The chain page with the contagion case is also measured three ways, interleaved in the same run: `before`
(every service runs its statements, as before jinyu.chain.reads), `per_request` (each statement once per
request, nothing kept between requests: what the first visitor after a load waits) and `reused` (answers of
earlier requests on the same lake files reused: what later visitors wait), and `per_request_links_before`:
`per_request` with the supply-links statement as it was before it cut the window's transfers to those touching
a member's account first (its SQL kept below), to measure that change against `per_request` in the same run,
and `after_warm_up`: nothing kept, then the background warm-up that `jinyu.chain.scheduler` runs after a load
(`warm_pages`: each chain's links and flows of the last twelve months, per month; not timed), then the page: what
the first visitor after a load waits once the server has warmed, and `restarted_after_warm_up`: the same, then
the process's memory of answers emptied (the answers kept on disk beside the lake stay, `jinyu.analytics.results`):
what the first visitor waits at another worker, or after a restart, once any worker has warmed. `per_request`
empties the disk too (nothing computed anywhere). `new_month_after_warm_up`: after the warm-up, the answers of
the window's last month forgotten (memory and disk), as a load of that month leaves them (its files change, the
other months' do not): what the first visitor waits between a load and the next warm-up. The warm-up itself is
timed too (`warm_up` from nothing, `warm_up_restarted` with the answers on disk, `warm_up_new_month`).
Every variant but `reused` also empties the rankings and contagion cases held in memory (`jinyu.chain.resident`:
a computed month's are named by its links' files, which a load or a new process does not keep), so only
`reused` gains from them.

Usage: python benchmarks/bench_console.py [--runs 15] [--size small|medium] [--data-dir DIR] [--out console.json]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

# run as a script (`python benchmarks/bench_console.py`), the repository's root is not on the path: the
# benchmarks package (its machine info) is imported from there, as mypy resolves it
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import jinyu
from benchmarks.machine import calibration, machine_info
from jinyu import demo
from jinyu.analytics import Query, registry, results
from jinyu.app import create_app
from jinyu.chain import reads, resident, scheduler
from jinyu.config import load_settings
from jinyu.core.auth import ROLE_PERMISSIONS, Role
from jinyu.web.render import MENU

RESULTS = Path(__file__).resolve().parent / "results"
BASELINE = "/healthz"  # the same app and client, no page: what any request costs here
USERS = ("analyst", "bank_risk", "insurer", "hospital", "enterprise")


def _login(client: TestClient, username: str, password: str) -> None:
    client.cookies.clear()
    page = client.get("/console/login").text
    token = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page)
    assert token is not None
    resp = client.post(
        "/console/login",
        data={"username": username, "password": password, "csrf_token": token.group(1)},
        follow_redirects=False,
    )
    assert resp.status_code == 303, resp.text


def _ms(client: TestClient, path: str) -> float:
    started = time.perf_counter()
    resp = client.get(path)
    elapsed = (time.perf_counter() - started) * 1000
    assert resp.status_code == 200, (path, resp.status_code)
    return elapsed


def _planted_loan(data_dir: Path) -> str:
    with (data_dir / "region" / "risk_labels.csv").open(encoding="utf-8") as fh:
        return next(row["loan_id"] for row in csv.DictReader(fh) if row["analysis"] == "return_flow")


def _chain_case(data_dir: Path) -> str:
    """The chain page with its heaviest query string: the planted contagion case of the region (flows, core
    enterprises, loans by term and the contagion of the failing member, over the window ending at its month)."""
    with (data_dir / "region" / "chain_cases.csv").open(encoding="utf-8") as fh:
        case = next(r for r in csv.DictReader(fh) if r["role"] == "failing")
    end = case["as_of_month"]
    start = f"{int(end[:4]) - 1}-{end[5:]}" if end[5:] == "12" else f"{end[:4]}-01"
    return (
        f"/console/chains?code={case['chain_code']}&from_month={start}&to_month={end}&failing={case['uscc']}"
    )


# chain_member_links before it cut the transfers to those touching a member's account first (the same rows).
LINKS_BEFORE_SQL = """
WITH members AS (
    SELECT uscc FROM chain_members WHERE chain_code = $chain_code
),
ent_accounts AS (
    SELECT account_no, owner_id AS uscc FROM accounts
    WHERE owner_type = 'enterprise' AND owner_id IN (SELECT uscc FROM enterprises)
)
SELECT
    t.month, fa.uscc AS payer, ta.uscc AS payee, count(*) AS txn_count,
    CAST(sum(t.amount) AS DECIMAL(38, 2)) AS total_amount
FROM transfers AS t
JOIN ent_accounts AS fa ON fa.account_no = t.from_account
JOIN ent_accounts AS ta ON ta.account_no = t.to_account
WHERE t.month BETWEEN $from_month AND $to_month
    AND fa.uscc <> ta.uscc
    AND (fa.uscc IN (SELECT uscc FROM members) OR ta.uscc IN (SELECT uscc FROM members))
GROUP BY 1, 2, 3
ORDER BY 1, 2, 3
"""


def _chain_variants(client: TestClient, path: str, runs: int) -> dict[str, list[float]]:
    """The chain page `before` / `per_request` / `reused` / `per_request_links_before`, interleaved run by run
    (see the module's doc)."""
    for_page, shared = reads.for_page, results.shared_results
    lake = client.app.state.settings.lake_dir  # type: ignore[attr-defined]
    links = registry.get_query("chain_member_links")
    links_before = Query(links.name, LINKS_BEFORE_SQL, links.params, links.description)
    factory = client.app.state.sessionmaker  # type: ignore[attr-defined]
    samples: dict[str, list[float]] = {
        name: []
        for name in (
            "before",
            "per_request",
            "reused",
            "per_request_links_before",
            "after_warm_up",
            "restarted_after_warm_up",
            "new_month_after_warm_up",
            "warm_up",
            "warm_up_restarted",
            "warm_up_new_month",
        )
    }
    end = path.split("to_month=")[1][:7]
    try:
        for _ in range(runs + 1):  # the first round warms each variant and is dropped
            reads.for_page = lambda engine, *a, **k: engine
            samples["before"].append(_ms(client, path))
            reads.for_page = for_page
            _forget(shared(lake))
            samples["per_request"].append(_ms(client, path))
            samples["reused"].append(_ms(client, path))
            registry._QUERIES[links.name] = links_before
            _forget(shared(lake))
            samples["per_request_links_before"].append(_ms(client, path))
            registry._QUERIES[links.name] = links
            _forget(shared(lake))
            samples["warm_up"].append(_warm_ms(factory, lake))
            resident.clear()
            samples["after_warm_up"].append(_ms(client, path))
            _forget(shared(lake), keep_store=True)
            samples["restarted_after_warm_up"].append(_ms(client, path))
            _forget(shared(lake), keep_store=True)
            samples["warm_up_restarted"].append(_warm_ms(factory, lake))
            _forget_month(shared(lake), end)
            resident.clear()
            samples["new_month_after_warm_up"].append(_ms(client, path))
            _forget_month(shared(lake), end)
            samples["warm_up_new_month"].append(_warm_ms(factory, lake))
    finally:
        reads.for_page = for_page
        registry._QUERIES[links.name] = links
    return {name: values[1:] for name, values in samples.items()}


def _forget(cache: results.ResultCache, keep_store: bool = False) -> None:
    """Forget the answers (on disk too unless `keep_store`) and what the process derived from them."""
    cache.clear(keep_store=keep_store)
    resident.clear()


def _warm_ms(factory: Any, lake: Path) -> float:
    started = time.perf_counter()
    scheduler.warm_pages(factory, lake)
    return (time.perf_counter() - started) * 1000


def _forget_month(cache: results.ResultCache, month: str) -> None:
    """Forget the month-grouped answers of `month` (as a load of that month makes them stale)."""
    for key in cache.held():
        params = dict(key[1])
        if key[0] in reads.MONTHLY and params.get("from_month") == month == params.get("to_month"):
            cache.discard(key)


def _chain_figures(client: TestClient, path: str, runs: int) -> dict[str, Any]:
    """The chain page's variants (ratios to `before`) and the links statement's change on the first request."""
    chain = _chain_variants(client, path, runs)
    before = statistics.median(chain["before"])
    figures: dict[str, Any] = {}
    for name, values in chain.items():
        if name.startswith("warm_up"):  # the background warm-up, not a page
            figures[f"chain pages' warm-up ({name})"] = {"median_ms": round(statistics.median(values), 1)}
            print(f"scheduler   {name:35s} median {statistics.median(values):7.1f} ms")
            continue
        median = statistics.median(values)
        figures[f"analyst chain page ({name})"] = {
            "median_ms": round(median, 1),
            "p95_ms": round(_p95(values), 1),
            "ratio_to_before": round(median / before, 2),
        }
        print(f"analyst     chain page {name:24s} median {median:7.1f} ms  × {median / before:.2f}")
    links_before = statistics.median(chain["per_request_links_before"])
    first = statistics.median(chain["per_request"])
    figures["analyst chain page first request: links statement before → after"] = {
        "before_ms": round(links_before, 1),
        "after_ms": round(first, 1),
        "ratio": round(first / links_before, 2),
    }
    print(f"analyst     chain page first request, links before → after: {links_before:.1f} → {first:.1f} ms")
    return figures


def _p95(values: list[float]) -> float:
    return sorted(values)[max(0, round(0.95 * len(values)) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--size", default="small", choices=("small", "medium"), help="synthetic region")
    parser.add_argument("--data-dir", default=None, help="a demo data dir to reuse (default: a fresh one)")
    parser.add_argument("--out", default="console.json", help="file name under benchmarks/results/")
    args = parser.parse_args()
    data_dir = Path(args.data_dir or tempfile.mkdtemp(prefix="jinyu-console-bench-"))
    settings = load_settings(data_dir=data_dir)
    generate = getattr(demo, "generate")  # noqa: B009  the demo's own size is small; --size overrides it
    setattr(demo, "generate", lambda out, _size, seed, **kw: generate(out, args.size, seed, **kw))  # noqa: B010
    creds = {c.username: c for c in demo.prepare(settings)}
    figures: dict[str, Any] = {}
    with TestClient(create_app(settings)) as client:
        for username in USERS:
            cred = creds[username]
            perms = ROLE_PERMISSIONS[Role(cred.role)]
            _login(client, username, cred.password)
            pages = [path for path, _, perm in MENU if perm in perms and path != "/console/loans"]
            if username == "bank_risk":  # the loan check with a planted return-flow loan of the demo bank
                pages.append(f"/console/loans?loan_id={_planted_loan(data_dir)}")
            if username == "analyst":
                pages.append(_chain_case(data_dir))
            samples: dict[str, list[float]] = {path: [] for path in (BASELINE, *pages)}
            for path in samples:
                _ms(client, path)  # warm: templates compiled, connections open
            for _ in range(args.runs):
                for path in samples:
                    samples[path].append(_ms(client, path))
            base = statistics.median(samples[BASELINE])
            for path, values in samples.items():
                median = statistics.median(values)
                figures[f"{username} {path}"] = {
                    "median_ms": round(median, 1),
                    "p95_ms": round(_p95(values), 1),
                    "ratio_to_baseline": round(median / base, 1),
                }
                print(f"{username:11s} {path:28s} median {median:7.1f} ms  p95 {_p95(values):7.1f} ms")
            if username == "analyst":
                figures |= _chain_figures(client, _chain_case(data_dir), args.runs)
    result = {
        "runs": args.runs,
        "region": f"{args.size} (jinyu demo's set-up on the {args.size} synthetic region)",
        "figures": figures,
        "machine": machine_info(),
        "calibration": calibration(),
        "load_average_1min": round(os.getloadavg()[0], 2),
        "jinyu_source": str(Path(jinyu.__file__).parent),  # which tree ran (a baseline worktree's or this)
    }
    RESULTS.mkdir(exist_ok=True)
    out = Path(args.out) if Path(args.out).is_absolute() else RESULTS / args.out
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(f"written to {out}")


if __name__ == "__main__":
    main()
