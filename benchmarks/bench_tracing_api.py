"""One-loan return flow over the API (GET /api/v1/risk/loans/{id}/return-flow) and a batch (POST
/api/v1/risk/batches): login, access, trace, evidence, inquiry record and audit — the whole request through the
app (in-process ASGI client, SQLite store), on a lake written by bench_tracing.py (`--region-dir`).

Each measurement runs in a child process that serves like a warm API process: a bank head office and one of
its risk users are created, the start-up objects frozen as `jinyu serve` does (`app.quiet_collector`; since
2026-12-07 evening, before that the children did not freeze), the resident transfer index and the resident
context are built first, then the sampled loans of that bank are requested in turn, with pro rata's `today`
pool and its `balance` pool, and one batch of up to --batch-loans of the bank's loans (the earliest ones, the
period cut at the last of them).

With --baseline-src (the previous code's tree: a checkout such as `git worktree add /tmp/base main`, or its
`src` directory with `alembic.ini` and `migrations/` beside it, as each child migrates its own store) the same
children run that code too, in the same rounds (--rounds), on the same loans in the same order: before/after in
the same run, on the same machine load. The order alternates round by round (round 1 this code first, round 2
the previous code first, ...), so neither side always gets the warmer or the quieter slot. The responses
(verdict, amounts, attribution, relations, refunds, evidence; not the basis, whose data version now counts the
balances of record for the balance pool) must be identical between the two. --batch-loans 0 measures one-loan
requests only.

--job on runs the rounds with another job on the machine: a separate process (this code) serving like the
children and posting the batch of --job-loans loans (default 1,000) over and over until the rounds are done;
--job both runs the rounds alone first, then again with the job, and reports both (`alone`, `with_job`). The
job's batches completed are counted. The load average and the calibration loop (`machine.calibration()`) are
recorded before and after.

Usage: python benchmarks/bench_tracing_api.py --lake /tmp/region/lake [--loans 150] [--baseline-src DIR]
       [--rounds 2] [--batch-loans 1000] [--job off|on|both] [--job-loans 1000] [--out tracing-api-medium.json]
Example (before/after against main, alone and with a batch job running):
       git worktree add /tmp/base main
       python benchmarks/bench_tracing_api.py --lake /work/data/large/lake --loans 60 --rounds 2 \
           --baseline-src /tmp/base --job both --out tracing-api-large.json
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import calibration, machine_info
from tracing_support import _loans, _ms, _pct

RESULTS = Path(__file__).resolve().parent / "results"
SRC = Path(__file__).resolve().parent.parent / "src"
PASSWORD = "bench-password-0123456789"
PSEUDONYM_KEY = "bench-pseudonym-key-0123456789-abcdefghij"  # the same tokens in every child
POOLS = ("today", "balance")
COMPARED = ("verdict", "returned_amount", "refunded_amount", "refunds", "by_relation", "by_hop", "attribution",
            "evidence")  # fmt: skip


def _sample(lake: Path, loans: int, seed: int, batch_loans: int, job_loans: int = 0) -> dict[str, Any]:
    rows = _loans(lake)
    head = collections.Counter(str(x["head"]) for x in rows).most_common(1)[0][0]
    mine = [x for x in rows if x["head"] == head]
    return {
        "bank": head,
        "loans": [x["loan_id"] for x in random.Random(seed).sample(mine, min(loans, len(mine)))],
        "batch": _period(mine, batch_loans),
        "job_batch": _period(mine, job_loans),
    }


def _period(mine: list[dict[str, Any]], count: int) -> dict[str, str] | None:
    """The period of the bank's `count` earliest loans (at most a year); None for none."""
    earliest = sorted(mine, key=lambda x: x["disbursed_at"])[:count]
    if not earliest:
        return None
    shanghai = [x["disbursed_at"].astimezone(_shanghai()).date() for x in earliest]
    shanghai = [d for d in shanghai if (d - shanghai[0]).days < 365]  # a batch covers at most a year
    return {"from_date": str(min(shanghai)), "to_date": str(max(shanghai))}


def _shanghai() -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo("Asia/Shanghai")


# -- the child: one warm serving process ---------------------------------------------------------------------


@contextlib.contextmanager
def serving(lake: Path, plan: dict[str, Any]) -> Any:
    """A warm serving app on `lake` (store in a temporary directory): (client, headers, warm seconds)."""
    from fastapi.testclient import TestClient
    from pydantic import SecretStr

    from jinyu.analytics.flowindex import shared_indexes
    from jinyu.app import create_app, quiet_collector
    from jinyu.config import load_settings
    from jinyu.core.auth import SYSTEM, OrgKind, Role
    from jinyu.core.runtime import sessionmaker_for, unit_of_work
    from jinyu.migrate import upgrade
    from jinyu.party import service as party
    from jinyu.party.schemas import OrgCreate, UserCreate
    from jinyu.risk.tracing.service import context

    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        (data / "lake").mkdir(parents=True)
        # The lake's datasets linked into a lake of this child's own: what the app writes at its root (the
        # change marker at start-up, load intents) stays here, never in the shared lake.
        for entry in lake.resolve().iterdir():
            if entry.is_dir() and not entry.name.startswith(("_", ".")):
                (data / "lake" / entry.name).symlink_to(entry)
        settings = load_settings(data_dir=data, tracing_warm=False, pseudonym_key=PSEUDONYM_KEY)
        upgrade(settings)
        with unit_of_work(settings) as session:
            org = party.create_org(session, SYSTEM, OrgCreate(kind=OrgKind.BANK_HEAD_OFFICE, code=plan["bank"],
                                                              name="bench bank", district_code="500101"))  # fmt: skip
            party.create_user(session, SYSTEM, UserCreate(username="bench-risk", display_name="bench", org_id=org.id,
                              roles=[Role.BANK_HQ_RISK], password=SecretStr(PASSWORD)))  # fmt: skip
        app = create_app(settings, factory=sessionmaker_for(settings))
        quiet_collector()  # as `jinyu serve` (app.serving_app): start-up objects frozen, fewer young passes
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
            yield client, headers, round(time.perf_counter() - started, 1)


def child(lake: Path, plan: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"times": {p: [] for p in POOLS}, "cpu": {p: [] for p in POOLS},
                           "bodies": {p: {} for p in POOLS}}  # fmt: skip
    with serving(lake, plan) as (client, headers, warm_seconds):
        out["warm_seconds"] = warm_seconds
        loans = plan["loans"]
        for n, loan_id in enumerate([loans[0], *loans]):  # the first request warms the views
            for pool in POOLS:
                t0, c0 = time.perf_counter(), time.process_time()
                resp = client.get(f"/api/v1/risk/loans/{loan_id}/return-flow?pool={pool}", headers=headers)
                elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
                assert resp.status_code == 200, resp.text
                if n:
                    body = resp.json()
                    out["times"][pool].append(elapsed)
                    out["cpu"][pool].append(cpu)
                    out["bodies"][pool][loan_id] = {k: body.get(k) for k in COMPARED}
                    out.setdefault("methods", {})[pool] = body["basis"]["method"]
        if plan["batch"] is None:
            out |= {"batch_seconds": None, "batch_loans": 0, "batch_method": None, "batch_rows": []}
            return out
        t0 = time.perf_counter()
        resp = client.post("/api/v1/risk/batches", headers=headers, json=plan["batch"])
        out["batch_seconds"] = round(time.perf_counter() - t0, 3)
        assert resp.status_code == 200, resp.text
        body = resp.json()
        out["batch_loans"] = len(body["rows"])
        out["batch_method"] = body["basis"]["method"]
        out["batch_rows"] = [{k: v for k, v in r.items() if k != "inquiry_id"} for r in body["rows"]]
    return out


def job(lake: Path, plan: dict[str, Any], ready: Path) -> None:
    """The other job: post the batch over and over (until the parent ends this process); `ready` is written
    once it is warm, then rewritten with the batches completed so far after each one."""
    with serving(lake, plan) as (client, headers, _):
        done = 0
        ready.write_text("0")
        while True:
            resp = client.post("/api/v1/risk/batches", headers=headers, json=plan["job_batch"])
            assert resp.status_code == 200, resp.text
            done += 1
            ready.write_text(str(done))


# -- the parent: rounds of children, summary ----------------------------------------------------------------


def _baseline(path: Path) -> Path:
    """The `src` directory of the previous code's tree (a checkout, or its `src` with alembic.ini and
    migrations/ beside it: each child migrates its store with that code's migrations)."""
    src = path / "src" if (path / "src" / "jinyu").is_dir() else path
    if not (src / "jinyu").is_dir():
        raise SystemExit(f"--baseline-src {path}: no jinyu package in it or in its src/")
    missing = [n for n in ("alembic.ini", "migrations") if not (src.parent / n).exists()]
    if missing:
        raise SystemExit(
            f"--baseline-src {path}: {' and '.join(missing)} missing beside {src} (the children migrate with "
            "them); use a checkout of the previous code, e.g. `git worktree add /tmp/base main`"
        )
    return src.resolve()


class Job:
    """The other job's process (this code), started warm and ended by its own process id."""

    def __init__(self, lake: Path, plan_file: Path, tmp: Path) -> None:
        self.ready = tmp / "job-ready"
        env = dict(os.environ, PYTHONPATH=str(SRC))
        command = [sys.executable, __file__, "--lake", str(lake), "--job-child", str(plan_file), "--job-ready",
                   str(self.ready)]  # fmt: skip
        self.log = (tmp / "job.log").open("w")
        self.process = subprocess.Popen(command, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        while not self.ready.exists():
            if self.process.poll() is not None:
                raise SystemExit(f"the job failed:\n{(tmp / 'job.log').read_text()[-3000:]}")
            time.sleep(0.5)
        self.started = time.perf_counter()

    def batches(self) -> int:
        text = self.ready.read_text().strip()
        return int(text) if text else 0

    def stop(self) -> dict[str, Any]:
        done, seconds = self.batches(), time.perf_counter() - self.started
        self.process.terminate()
        self.process.wait(timeout=60)
        self.log.close()
        return {"batches_completed": done, "seconds": round(seconds, 1)}


def _run_child(src: Path, lake: Path, plan_file: Path) -> dict[str, Any]:
    env = dict(os.environ, PYTHONPATH=str(src))
    done = subprocess.run(
        [sys.executable, __file__, "--lake", str(lake), "--child", str(plan_file)],
        env=env, capture_output=True, text=True,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"child ({src}) failed:\n{done.stderr[-3000:]}")
    answer: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return answer


def _figures(values: list[float]) -> dict[str, Any]:
    return {"requests": len(values), "p50_ms": _ms(statistics.median(values)), "p95_ms": _ms(_pct(values, 95)),
            "max_ms": _ms(max(values))}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--lake", type=Path, required=True)
    parser.add_argument("--loans", type=int, default=150)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--batch-loans", type=int, default=1000)
    parser.add_argument(
        "--baseline-src",
        type=Path,
        help="the previous code's checkout (or its src/ with alembic.ini, migrations/ beside)",
    )
    parser.add_argument(
        "--job",
        choices=["off", "on", "both"],
        default="off",
        help="another job running: off, on (rounds with it), both (alone, then with it)",
    )
    parser.add_argument("--job-loans", type=int, default=1000, help="loans in the other job's batch")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--job-child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--job-ready", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", default="tracing-api.json", help="file name under benchmarks/results/")
    args = parser.parse_args()
    if args.child is not None:
        print(json.dumps(child(args.lake, json.loads(args.child.read_text())), default=str))
        return
    if args.job_child is not None:
        job(args.lake, json.loads(args.job_child.read_text()), args.job_ready)
        return
    job_loans = args.job_loans if args.job != "off" else 0
    if args.job != "off" and job_loans < 1:
        raise SystemExit("--job-loans must be at least 1 with --job on/both")
    plan = _sample(args.lake, args.loans, args.seed, args.batch_loans, job_loans)
    variants = {"this_code": SRC}
    if args.baseline_src is not None:
        variants["previous_code"] = _baseline(args.baseline_src)
    result: dict[str, Any] = {
        "benchmark": "tracing-api",
        "lake": str(args.lake),
        "bank": plan["bank"],
        "batch_period": plan["batch"],
        "job_batch_period": plan["job_batch"],
        "variants": {k: str(v) for k, v in variants.items()},
        "calibration_start": calibration(),
        "load_average_start": [round(x, 2) for x in os.getloadavg()],
    }
    phases = {"off": ["alone"], "on": ["with_job"], "both": ["alone", "with_job"]}[args.job]
    with tempfile.TemporaryDirectory() as tmp:
        plan_file = Path(tmp) / "plan.json"
        plan_file.write_text(json.dumps(plan))
        for phase in phases:
            other = Job(args.lake, plan_file, Path(tmp)) if phase == "with_job" else None
            try:
                result[phase] = _phase(phase, variants, args.lake, plan_file, args.rounds)
            finally:
                if other is not None:
                    result[phase]["job"] = other.stop()
            result[phase]["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    result["calibration_end"] = calibration()
    result["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    result["machine"] = machine_info()
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / args.out
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2, ensure_ascii=False, default=str))


def _phase(phase: str, variants: dict[str, Path], lake: Path, plan_file: Path, rounds: int) -> dict[str, Any]:
    """Rounds of children of every variant, the order alternating round by round; their summary."""
    result: dict[str, Any] = {"load_average_start": [round(x, 2) for x in os.getloadavg()], "order": []}
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in variants}
    for number in range(rounds):
        order = list(variants.items()) if number % 2 == 0 else list(reversed(variants.items()))
        result["order"].append([name for name, _ in order])
        for name, src in order:
            answer = _run_child(src, lake, plan_file)
            runs[name].append(answer)
            print(f"{phase} round {number + 1} {name}: " + ", ".join(
                f"{p} p50 {_ms(statistics.median(answer['times'][p]))} ms"
                f" (CPU {_ms(statistics.median(answer['cpu'][p]))} ms)" for p in POOLS
            ) + f", batch {answer['batch_loans']} loans {answer['batch_seconds']} s", flush=True)  # fmt: skip
    for name, answers in runs.items():
        summary: dict[str, Any] = {"warm_seconds": [a["warm_seconds"] for a in answers]}
        for pool in POOLS:
            summary[f"one_loan_{pool}"] = _figures([t for a in answers for t in a["times"][pool]])
            summary[f"one_loan_{pool}_per_round_p50_ms"] = [
                _ms(statistics.median(a["times"][pool])) for a in answers
            ]
            summary[f"method_{pool}"] = answers[0]["methods"][pool]
            if all("cpu" in a for a in answers):  # a tree's bench from before the CPU figure has none
                cpus = [c for a in answers for c in a["cpu"][pool]]
                summary[f"one_loan_{pool}_cpu_ms"] = {"median": _ms(statistics.median(cpus)),
                                                      "mean": _ms(statistics.fmean(cpus))}  # fmt: skip
                summary[f"one_loan_{pool}_cpu_per_round_median_ms"] = [
                    _ms(statistics.median(a["cpu"][pool])) for a in answers
                ]
        if answers[0]["batch_loans"]:
            summary["batch"] = {"loans": answers[0]["batch_loans"], "seconds": [a["batch_seconds"] for a in answers],
                                "median_seconds": statistics.median(a["batch_seconds"] for a in answers),
                                "method": answers[0]["batch_method"]}  # fmt: skip
        result[name] = summary
    first = runs["this_code"][0]
    result["identical_responses"] = all(
        a["bodies"] == first["bodies"] and a["batch_rows"] == first["batch_rows"]
        for r in runs.values()
        for a in r
    )
    if "previous_code" in runs:
        this, before = result["this_code"], result["previous_code"]
        for pool in POOLS:
            for q in ("p50", "p95"):
                result[f"ratio_{pool}_{q}"] = round(
                    before[f"one_loan_{pool}"][f"{q}_ms"] / this[f"one_loan_{pool}"][f"{q}_ms"], 2
                )
        for pool in POOLS:
            if f"one_loan_{pool}_cpu_ms" in this and f"one_loan_{pool}_cpu_ms" in before:
                result[f"ratio_{pool}_cpu_median"] = round(
                    before[f"one_loan_{pool}_cpu_ms"]["median"] / this[f"one_loan_{pool}_cpu_ms"]["median"], 2
                )
        if "batch" in this:
            result["ratio_batch"] = round(
                before["batch"]["median_seconds"] / this["batch"]["median_seconds"], 2
            )
    return result


if __name__ == "__main__":
    main()
