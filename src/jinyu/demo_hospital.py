"""The demo hospital's first week on the platform, sent through the API its system uses.

`make demo` serves the app for a moment on a free local port and, as the hospital's system (the `svc:his`
service account, `X-API-Key`), settles a week of discharges over HTTP — `POST /api/v1/claims/settlements`,
`…/{id}/confirm`, `…/{id}/cancel` — and sends each day's reconciliation file (`POST
/api/v1/claims/reconciliations`), exactly as a hospital's HIS would. Nothing is written to the tables
directly: the settlements, ledger postings, alerts and reconciliation runs are the platform's own answers.

The week (2025-06-02 … 2025-06-06, three discharges a day, fifteen residents, one stay each): most are
confirmed at once; one waits and is confirmed by the hospital the same day; one is settled, cancelled for a
corrected record and settled again; one is never confirmed and the day's reconciliation confirms it; and the
last day's file has one amount keyed 0.50 yuan off, which the reconciliation flags for people. The lead
insurer's book (funded 500,000.00, alert line 300,000.00) falls below its line on the Friday: an open
low-balance alert.
"""

from __future__ import annotations

import datetime as dt
import json
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from jinyu.config import Settings

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
FIRST_DAY = dt.date(2025, 6, 2)


@dataclass(frozen=True)
class Stay:
    """One discharge of the week: in-list cost (before BMI's 60 %), out-of-list cost, what the HIS does."""

    day: int  # 0 = Monday 2025-06-02
    inscp: Decimal
    ownpay: Decimal
    diagnosis: str
    handling: str = "auto"  # auto | confirm | unconfirmed | cancel_resettle
    keyed_payout: Decimal | None = None  # the amount the hospital's day file says, when it differs


WEEK: tuple[Stay, ...] = (
    Stay(0, Decimal("30000.00"), Decimal("2000.00"), "J18.9"),
    Stay(0, Decimal("80000.00"), Decimal("9000.00"), "K80.1"),
    Stay(0, Decimal("150000.00"), Decimal("30000.00"), "I21.0"),
    Stay(1, Decimal("60000.00"), Decimal("6000.00"), "K35.8", "confirm"),
    Stay(1, Decimal("220000.00"), Decimal("40000.00"), "C16.9"),
    Stay(1, Decimal("12000.00"), Decimal("800.00"), "J20.9"),
    Stay(2, Decimal("95000.00"), Decimal("12000.00"), "S72.0", "cancel_resettle"),
    Stay(2, Decimal("45000.00"), Decimal("5000.00"), "N20.0"),
    Stay(2, Decimal("180000.00"), Decimal("26000.00"), "I63.9"),
    Stay(3, Decimal("70000.00"), Decimal("4000.00"), "K56.7", "unconfirmed"),
    Stay(3, Decimal("25000.00"), Decimal("3000.00"), "J44.1"),
    Stay(3, Decimal("130000.00"), Decimal("15000.00"), "C18.7"),
    Stay(4, Decimal("110000.00"), Decimal("10000.00"), "I25.1", "auto", Decimal("23800.50")),
    Stay(4, Decimal("40000.00"), Decimal("9000.00"), "E11.9"),
    Stay(4, Decimal("260000.00"), Decimal("45000.00"), "C34.9"),
)
LEAD_DEPOSIT = Decimal("500000.00")
LEAD_THRESHOLD = Decimal("300000.00")


@dataclass
class WeekReport:
    settlements: int = 0
    cancelled: int = 0
    paid: Decimal = Decimal("0.00")
    runs: list[tuple[str, str]] = field(default_factory=list)  # (business date, status)


class HospitalApiError(RuntimeError):
    """The API refused one of the demo hospital's requests (the demo is broken, not the visitor)."""


def request(stay: Stay, n: int, certno: str, setl_suffix: str = "") -> dict[str, Any]:
    """A discharge as the hospital's system sends it (the national settlement-record layout)."""
    hifp = (stay.inscp * Decimal("0.6")).quantize(Decimal("0.01"))
    at = dt.datetime.combine(FIRST_DAY + dt.timedelta(days=stay.day), dt.time(9 + n % 3 * 2, 15), SHANGHAI)
    return {
        "msg_id": f"HIS-W{n + 1:04d}{setl_suffix}",
        "certno": certno,
        "auto_confirm": stay.handling in ("auto", "cancel_resettle"),
        "setlinfo": {
            "mdtrt_id": f"ZY2025060{stay.day + 2}{n + 1:03d}",
            "setl_id": f"JS2025060{stay.day + 2}{n + 1:03d}{setl_suffix}",
            "setl_time": at.isoformat(),
            "medfee_sumamt": str(stay.inscp + stay.ownpay),
            "fulamt_ownpay_amt": str(stay.ownpay),
            "inscp_scp_amt": str(stay.inscp),
            "hifp_pay": str(hifp),
            "dise_codg": stay.diagnosis,
        },
    }


def settle_week(settings: Settings, api_key: str, certnos: list[str]) -> WeekReport:
    """Send the week through the running API; `certnos` are enrolled residents, one per stay."""
    if len(certnos) < len(WEEK):
        raise ValueError("one enrolled resident per stay")
    with _served(settings) as base:
        his = _Client(base, api_key)
        report = WeekReport()
        days: dict[int, list[dict[str, Any]]] = {}
        for n, stay in enumerate(WEEK):
            body = request(stay, n, certnos[n])
            done = his.post("/api/v1/claims/settlements", body)
            info = body["setlinfo"]
            record = {"mdtrt_id": info["mdtrt_id"], "setl_id": info["setl_id"], "status": "settled"}
            if stay.handling == "confirm":
                done = his.post(f"/api/v1/claims/settlements/{done['id']}/confirm", {})
            elif stay.handling == "cancel_resettle":
                his.post(
                    f"/api/v1/claims/settlements/{done['id']}/cancel",
                    {"msg_id": f"{body['msg_id']}-C", "reason": "病案首页更正 / corrected medical record"},
                )
                days.setdefault(stay.day, []).append(
                    {**record, "status": "cancelled", "payout": done["payout"]}
                )
                report.cancelled += 1
                body = request(stay, n, certnos[n], "R")
                done = his.post("/api/v1/claims/settlements", body)
                record = {**record, "setl_id": body["setlinfo"]["setl_id"]}
            report.settlements += 1 + (stay.handling == "cancel_resettle")
            payout = Decimal(done["payout"])
            report.paid += payout
            keyed = stay.keyed_payout if stay.keyed_payout is not None else payout
            days.setdefault(stay.day, []).append({**record, "payout": str(keyed)})
        for day, records in sorted(days.items()):
            settled = [r for r in records if r["status"] == "settled"]
            run = his.post(
                "/api/v1/claims/reconciliations",
                {
                    "business_date": (FIRST_DAY + dt.timedelta(days=day)).isoformat(),
                    "total_count": len(settled),
                    "total_payout": str(sum((Decimal(r["payout"]) for r in settled), Decimal("0.00"))),
                    "records": records,
                },
            )
            report.runs.append((run["business_date"], run["status"]))
    return report


class _Client:
    def __init__(self, base: str, api_key: str) -> None:
        self.base, self.api_key = base, api_key

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        req = urllib.request.Request(
            self.base + path,
            data=json.dumps(body).encode(),
            headers={"X-API-Key": self.api_key, "Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                answer: dict[str, Any] = json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            raise HospitalApiError(f"{path}: {exc.code} {exc.read().decode(errors='replace')}") from None
        return answer


@contextmanager
def _served(settings: Settings) -> Iterator[str]:
    """The app on a free port of 127.0.0.1 for as long as the block runs (uvicorn in a thread)."""
    import uvicorn

    from jinyu.app import create_app

    quiet = settings.model_copy(update={"tracing_warm": False, "chain_network_due_seconds": 0})
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    server = uvicorn.Server(
        uvicorn.Config(create_app(quiet), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    if not server.started:
        raise RuntimeError("the demo could not start the API on a local port")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
