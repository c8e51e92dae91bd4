"""Every console page's first request after a start, and its later requests, on a prepared demo data dir.

`bench_console.py` drops each page's first request (it warms templates, connections and the answers kept
between requests) and times the later ones. This one times that first request too, as the first visitor after
a restart meets it: for each demo user and each page their role may open, a **new Python process** starts the
app, logs in, and times its first `GET` of the page (`cold`), then `--reused` more (`reused`, their median); the
answers kept on disk beside the lake (`<lake>.results/`) are emptied before each process, so nothing was
computed anywhere (the scheduler's warm-up is off, as in `jinyu demo`). `GET /healthz` is timed the same way in
each process (first and later) as the baseline. Rounds (`--rounds`) repeat the whole walk; figures are medians
over rounds. The data dir must have been prepared (`bench_console.py --size medium --data-dir DIR` once).

The processes keep Python's bytecode (`--pycache`, default `<tmp>/jinyu-bench-pycache`, PYTHONPYCACHEPREFIX) as
a deployed server has it, even where the environment says not to write it (PYTHONDONTWRITEBYTECODE): without
it a lazy import in a request (pyarrow's of pandas) costs seconds of compiling. To time another tree (a
baseline), run this script with PYTHONPATH=<tree>/src: the processes inherit it (`jinyu_source` says which ran).

The resident transfer index and tracing context that a serving process keeps beside the lake for the next one
(`<lake>.flowindex/`, `<lake>.tracing-context/`) stay between processes, as at a restart; `--drop-kept` removes
them before each process (the first start after a load). `--tracing-warm` starts each app as `jinyu serve`
does, preparing them at start rather than on the first tracing request.

`--api-load SECONDS` times the first request after a load through the API instead: each process first loads
one new bank (`POST /api/v1/ingest/banks`, timing its answer too), pauses SECONDS, then fetches the page.

`--as-loaded` times the first request after a start that follows a CLI load (`jinyu ingest`, `jinyu demo`):
after the answers are emptied, the tree's own load-end step for the pages runs in a process of its own,
untimed (`jinyu.load_prepare.prepare_pages`: the chain pages' answers kept beside the lake; a tree without it
leaves nothing, as its load did), then the page's process starts as above.

Usage: python benchmarks/bench_console_cold.py --data-dir DIR [--rounds 3] [--reused 5] [--only 'USER PATH' ...]
       [--drop-kept] [--tracing-warm] [--api-load SECONDS] [--as-loaded] [--out console-cold.json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.machine import calibration, machine_info

RESULTS = Path(__file__).resolve().parent / "results"
USERS = ("analyst", "bank_risk", "insurer", "hospital", "enterprise")


def _pages(data_dir: Path, username: str, role: str) -> list[str]:
    """The pages `bench_console.py` walks for this user (the same menu, loan and chain case)."""
    from benchmarks.bench_console import _chain_case, _planted_loan
    from jinyu.core.auth import ROLE_PERMISSIONS, Role
    from jinyu.web.render import MENU

    perms = ROLE_PERMISSIONS[Role(role)]
    pages = [path for path, _, perm in MENU if perm in perms and path != "/console/loans"]
    if username == "bank_risk":
        pages.append(f"/console/loans?loan_id={_planted_loan(data_dir)}")
    if username == "analyst":
        pages.append(_chain_case(data_dir))
    return ["/healthz", *pages]


def _one(
    data_dir: Path, username: str, path: str, reused: int, api_load: float | None = None
) -> dict[str, Any]:
    """In this (new) process: the app started, the user logged in, the page's first and later requests.
    `api_load`: first a load through the API (one new bank, `POST /api/v1/ingest/banks` as the demo's
    platform admin), then that many seconds' pause (whatever the server does after the answer), then the page."""
    from fastapi.testclient import TestClient

    from benchmarks.bench_console import _login, _ms
    from jinyu.app import create_app
    from jinyu.config import load_settings

    creds = {c["username"]: c for c in json.loads((data_dir / "credentials.json").read_text())}
    settings = load_settings(data_dir=data_dir)
    upload_ms = None
    with TestClient(create_app(settings)) as client:
        if api_load is not None:
            upload_ms = _api_load(client, creds["admin"]["password"])
            time.sleep(api_load)
        _login(client, username, creds[username]["password"])
        cold = _ms(client, path)
        later = [_ms(client, path) for _ in range(reused)]
    one = {"cold_ms": cold, "reused_ms": statistics.median(later), "jinyu": jinyu_source()}
    return one | ({"upload_ms": upload_ms} if upload_ms is not None else {})


def _api_load(client: Any, password: str) -> float:
    """One new bank loaded through the API; the time until its answer (ms). The answer is the report: the
    test client returns once the request's background tasks have run, as a server's next request on the
    same connection would."""
    token = client.post("/api/v1/auth/token", data={"username": "admin", "password": password})
    token.raise_for_status()
    code = f"BZ{time.time_ns() % 10**12}"
    body = f"org_code,name,level,parent_code,district_code,uscc\n{code},基准行,head_office,,500101,\n"
    started = time.perf_counter()
    resp = client.post(
        "/api/v1/ingest/banks",
        files={"file": ("banks.csv", body.encode(), "text/csv")},
        headers={"Authorization": f"Bearer {token.json()['access_token']}"},
    )
    elapsed = (time.perf_counter() - started) * 1000
    if resp.status_code != 201:
        raise RuntimeError(resp.text)
    return elapsed


def _prepare_as_loaded(data_dir: Path) -> None:
    """The chain pages' answers as this tree's load leaves them (`--as-loaded`); a tree without the step
    (before h-bm) leaves none, as its load did."""
    from jinyu import load_prepare
    from jinyu.config import load_settings
    from jinyu.core.runtime import sessionmaker_for
    from jinyu.governance.contracts import LOAD_ORDER

    step = getattr(load_prepare, "prepare_pages", None)
    if step is not None:
        settings = load_settings(data_dir=data_dir)
        step(settings.lake_dir, LOAD_ORDER, lambda _line: None, sessionmaker_for(settings))


def _chosen(name: str, only: list[str]) -> bool:
    return not only or any(name == o or name.startswith(o + "?") for o in only)


def jinyu_source() -> str:
    import jinyu

    return str(Path(jinyu.__file__).parent)


# What a serving process keeps beside the lake for the next one (`jinyu.analytics.flowfiles`, the tracing
# context's `service.kept`): the resident transfer index and context, per version of the lake's files.
KEPT = ("lake.flowindex", "lake.tracing-context")


def _spawn(
    data_dir: Path,
    username: str,
    path: str,
    reused: int,
    pycache: str,
    *,
    drop_kept: bool,
    warm: bool,
    api_load: float | None = None,
    as_loaded: bool = False,
) -> dict[str, Any]:
    shutil.rmtree(data_dir / "lake.results", ignore_errors=True)  # nothing computed anywhere
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = pycache  # bytecode kept, as a deployed server has it (the module's doc)
    if as_loaded:  # what the tree's own load leaves beside the lake, in a process of its own (not timed)
        prepare = [sys.executable, __file__, "--data-dir", str(data_dir), "--prepare-only"]
        subprocess.run(prepare, capture_output=True, text=True, check=True, env=env)
    if drop_kept:  # the first start after a load: no process has built this version's index yet
        for name in KEPT:
            shutil.rmtree(data_dir / name, ignore_errors=True)
    if warm:  # as `jinyu serve` starts its workers: the resident index and context prepared at start
        env["JINYU_TRACING_WARM"] = "true"
    command = [sys.executable, __file__, "--data-dir", str(data_dir), "--one", username, path]
    if api_load is not None:
        command += ["--api-load", str(api_load)]
    out = subprocess.run(
        [*command, "--reused", str(reused)], capture_output=True, text=True, check=True, env=env
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--reused", type=int, default=5)
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        help="only pages whose 'user path' starts with this (repeatable)",
    )
    parser.add_argument("--pycache", default=str(Path(tempfile.gettempdir()) / "jinyu-bench-pycache"))
    parser.add_argument(
        "--drop-kept",
        action="store_true",
        help="remove the resident index and context kept beside the lake before each process "
        "(a first start after a load; default: kept, as at a restart)",
    )
    parser.add_argument(
        "--tracing-warm",
        action="store_true",
        help="start each app as `jinyu serve` does (JINYU_TRACING_WARM: the resident index and context "
        "prepared at start; default: on the first tracing request)",
    )
    parser.add_argument(
        "--api-load",
        type=float,
        default=None,
        metavar="SECONDS",
        help="in each process, first load one new bank through the API (as the demo's admin), wait SECONDS, "
        "then time the page: the first request after an API load (the lake grows by one bank per process)",
    )
    parser.add_argument(
        "--as-loaded",
        action="store_true",
        help="after emptying the answers kept beside the lake, do what the tree's own load does at its end "
        "for the pages (`jinyu.load_prepare.prepare_pages` where the tree has it; nothing on older trees), "
        "in a process of its own, untimed: the first request after a start that follows a CLI load",
    )
    parser.add_argument("--prepare-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--one", nargs=2, metavar=("USER", "PATH"), help=argparse.SUPPRESS)
    parser.add_argument("--out", default="console-cold.json", help="file name under benchmarks/results/")
    args = parser.parse_args()
    data_dir = Path(args.data_dir)
    if args.prepare_only:
        _prepare_as_loaded(data_dir)
        os._exit(0)
    if args.one:
        print(
            json.dumps(_one(data_dir, args.one[0], args.one[1], args.reused, args.api_load)), flush=True
        )  # the parent reads the last line
        # Out at once: a background build still inside DuckDB when the interpreter shuts down aborts the
        # process (SIGABRT), which says nothing about the pages timed above.
        os._exit(0)
    creds = {c["username"]: c for c in json.loads((data_dir / "credentials.json").read_text())}
    walk = [
        (u, p) for u in USERS for p in _pages(data_dir, u, creds[u]["role"]) if _chosen(f"{u} {p}", args.only)
    ]
    samples: dict[str, dict[str, list[float]]] = {f"{u} {p}": {"cold": [], "reused": []} for u, p in walk}
    loads, sources = [], set()
    started = time.time()
    for _ in range(args.rounds):
        loads.append(os.getloadavg()[0])
        for username, path in walk:
            one = _spawn(
                data_dir,
                username,
                path,
                args.reused,
                args.pycache,
                drop_kept=args.drop_kept,
                warm=args.tracing_warm,
                api_load=args.api_load,
                as_loaded=args.as_loaded,
            )
            upload = f" (upload {one['upload_ms']:.1f} ms)" if "upload_ms" in one else ""
            print(
                f"{username} {path[:60]} {one['cold_ms']:.1f} / {one['reused_ms']:.1f} ms{upload}",
                file=sys.stderr,
            )
            if "upload_ms" in one:
                samples[f"{username} {path}"].setdefault("upload", []).append(one["upload_ms"])
            sources.add(one["jinyu"])
            samples[f"{username} {path}"]["cold"].append(one["cold_ms"])
            samples[f"{username} {path}"]["reused"].append(one["reused_ms"])
    figures = {}
    for name, s in samples.items():
        cold, reused = statistics.median(s["cold"]), statistics.median(s["reused"])
        figures[name] = {"cold_median_ms": round(cold, 1), "reused_median_ms": round(reused, 1)}
        figures[name] |= {"cold_ms": [round(v, 1) for v in s["cold"]]}
        if s.get("upload"):
            figures[name] |= {"upload_ms": [round(v, 1) for v in s["upload"]]}
        flag = "  > 100 ms" if cold > 100 or reused > 100 else ""
        print(f"{name[:70]:70s} cold {cold:7.1f}  reused {reused:7.1f} ms{flag}")
    result = {
        "rounds": args.rounds,
        "tracing_warm": args.tracing_warm,
        "drop_kept": args.drop_kept,
        "api_load_pause_seconds": args.api_load,
        "as_loaded": args.as_loaded,
        "reused_per_process": args.reused,
        "figures": figures,
        "seconds": round(time.time() - started, 1),
        "machine": machine_info(),
        "calibration": calibration(),
        "load_average_1min_per_round": [round(v, 2) for v in loads],
        "jinyu_source": sorted(sources),
    }
    out = Path(args.out) if Path(args.out).is_absolute() else RESULTS / args.out
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(f"written to {out}")


if __name__ == "__main__":
    main()
