"""No raw personal data at rest or in answers: the demo region loaded through the real path, the main flows
run over the API by every demo user, then logs, every response body, every file written under the data dir
(the lake, its kept results, indexes and context, the quarantine, audit checkpoints) and the operational store
are scanned for the resident IDs, phones and full names the region planted: 0 found.

Not scanned, on purpose: `<data dir>/region` and `<data dir>/claims` (the providers' own input files the demo
keeps), and `GET /ingest/loads/{id}/quarantine`, whose whole point is to give the providing organisation's
engineer back the rows it sent (tested in tests/ingest/test_protection.py).
"""

from __future__ import annotations

import csv
import io
import json
import logging
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

from jinyu.app import create_app
from jinyu.config import Settings, load_settings
from jinyu.core.logging import JsonFormatter
from jinyu.demo import prepare
from jinyu.governance.contracts import CONTRACTS
from tests.fixtures.auth import uscc
from tests.security.needles import Needles, planted, rows

API = "/api/v1"


class Collected(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(JsonFormatter())
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture(scope="module")
def logs() -> Iterator[Collected]:
    handler = Collected()
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield handler
    root.removeHandler(handler)
    root.setLevel(level)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, logs: Collected) -> tuple[Settings, list[dict[str, str]]]:
    settings = load_settings(data_dir=tmp_path_factory.mktemp("scan") / "data")
    prepare(settings)
    creds = json.loads((settings.data_dir / "credentials.json").read_text())
    return settings, creds


def _headers(client: TestClient, cred: dict[str, str]) -> dict[str, str]:
    if cred["username"].startswith("svc:"):
        return {"X-API-Key": cred["password"]}
    resp = client.post(f"{API}/auth/token", data={"username": cred["username"], "password": cred["password"]})
    assert resp.status_code == 200, resp.text
    return {"Authorization": f"Bearer {resp.json()['access_token']}"}


def _csv(dataset: str, items: list[dict[str, Any]]) -> bytes:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=CONTRACTS[dataset].column_names)
    w.writeheader()
    w.writerows({k: ("" if v is None else v) for k, v in r.items()} for r in items)
    return buf.getvalue().encode()


def _main_flows(client: TestClient, settings: Settings, creds: list[dict[str, str]]) -> list[str]:
    """Every GET without path parameters for every user, then the flows that take ids; the response bodies."""
    region = settings.data_dir / "region"
    bodies: list[str] = []
    paths = client.get(f"{API}/openapi.json").json()["paths"]
    plain_gets = [p for p, ops in paths.items() if "get" in ops and "{" not in p and p.startswith(API)]
    enterprises = list(rows(region, "enterprises"))[:5]
    loans = list(rows(region, "loans"))
    for cred in creds:
        headers = _headers(client, cred)
        for path in plain_gets:
            bodies.append(client.get(path, headers=headers, params={"limit": 200}).text)
        for e in enterprises:
            bodies.append(client.get(f"{API}/enterprises/{e['uscc']}/gov-summary", headers=headers).text)
        for loan in loans[:3]:
            for kind in ("return-flow", "misuse"):
                bodies.append(client.get(f"{API}/risk/loans/{loan['loan_id']}/{kind}", headers=headers).text)
        batch = {"from_date": "2024-01-01", "to_date": "2024-12-31"}
        bodies.append(client.post(f"{API}/risk/batches", json=batch, headers=headers).text)
        loads = client.get(f"{API}/ingest/loads", headers=headers, params={"limit": 200})
        for load in loads.json().get("items", []) if loads.status_code == 200 else []:
            bodies.append(client.get(f"{API}/ingest/loads/{load['id']}", headers=headers).text)
        for page in ("orgs", "users", "registrations", "consents"):
            listed = client.get(f"{API}/{page}", headers=headers, params={"limit": 20})
            for item in listed.json().get("items", [])[:5] if listed.status_code == 200 else []:
                bodies.append(client.get(f"{API}/{page}/{item['id']}", headers=headers).text)
    # The provider sends a file whose rows are refused (its own bureau's data, raw values of real persons),
    # and tries a bank's dataset: the load report and the refusal are scanned, the quarantine file below.
    provider = _headers(client, next(c for c in creds if c["username"] == "provider"))
    bad = [{**e, "uscc": e["uscc"][:-1] + ("0" if e["uscc"][-1] != "0" else "1")} for e in enterprises]
    person = enterprises[-1]  # a region person, legal representative of one more (new, valid) company
    good = {**enterprises[0], "uscc": uscc(), "name": "重庆扫描测试有限公司", "phone": person["phone"]}
    good |= {"legal_rep_id": person["legal_rep_id"], "legal_rep_name": person["legal_rep_name"]}
    files = {"file": ("enterprises.csv", _csv("enterprises", [good, *bad]), "text/csv")}
    report = client.post(f"{API}/ingest/enterprises", files=files, headers=provider)
    assert report.status_code == 201, report.text
    assert (report.json()["accepted"], report.json()["rejected"]) == (1, len(bad))
    bodies.append(report.text)
    files = {"file": ("loans.csv", _csv("loans", loans[:2]), "text/csv")}
    refused = client.post(f"{API}/ingest/loans", files=files, headers=provider)
    assert refused.status_code == 403
    bodies.append(refused.text)
    return bodies


# Not personal data at rest: the providers' own inputs, the demo's secrets, and the store (read table by table).
_NOT_SCANNED_AS_FILES = ("region", "claims", "keys", "credentials.json", "jinyu.sqlite3")


def _file_text(path: Path) -> str:
    """A file's values as text: columnar files through Arrow/NumPy (they may be compressed), others as bytes."""
    if path.suffix == ".parquet":
        table = pq.read_table(path)
    elif path.suffix == ".arrow":
        with pa.memory_map(str(path)) as source:
            table = pa.ipc.open_file(source).read_all()
    elif path.suffix == ".npy":
        array = np.load(path, allow_pickle=False)
        return "\n".join(map(str, array.ravel().tolist())) if array.dtype.kind in "USO" else ""
    else:
        return path.read_bytes().decode("utf-8", errors="ignore")
    return "\n".join(str(v) for c in table.columns for v in c.to_pylist() if v is not None)


def _at_rest(settings: Settings) -> Iterator[tuple[str, str]]:
    """(where, text) for every file the platform wrote under the data dir (lake, results, kept indexes and
    context, quarantine, audit checkpoints, ...) and every table of the SQLite store."""
    root = settings.data_dir
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.relative_to(root).parts[0] not in _NOT_SCANNED_AS_FILES:
            yield str(path), _file_text(path)
    store = sqlite3.connect(root / "jinyu.sqlite3")
    try:
        tables = [r[0] for r in store.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for name in tables:
            cells = store.execute(f'SELECT * FROM "{name}"').fetchall()
            yield f"sqlite:{name}", "\n".join(str(v) for r in cells for v in r if v is not None)
    finally:
        store.close()


def test_no_planted_identifier_phone_or_name_anywhere(
    demo: tuple[Settings, list[dict[str, str]]], logs: Collected
) -> None:
    settings, creds = demo
    needles: Needles = planted(settings.data_dir / "region")
    assert len(needles.ids) > 1000 and len(needles.phones) > 100 and len(needles.names) > 1000
    with TestClient(create_app(settings)) as client:
        logging.getLogger().addHandler(logs)  # create_app configures logging afresh
        bodies = _main_flows(client, settings, creds)
    found: dict[str, list[str]] = {}
    for i, body in enumerate(bodies):
        if hits := needles.found_in(body):
            found[f"response {i}: {body[:120]}"] = hits[:5]
    for where, text in _at_rest(settings):
        if hits := needles.found_in(text):
            found[where] = hits[:5]
    if hits := needles.found_in("\n".join(logs.lines)):
        found["logs"] = hits[:5]
    assert len(bodies) > 200 and logs.lines
    assert found == {}
    # The quarantine file of the provider's refused rows exists and is among what was scanned.
    assert list((settings.data_dir / "quarantine" / "enterprises").glob("*.csv"))
    # ... and so are the kept results and indexes beside the lake (Arrow, NumPy, pickled context).
    scanned = {where for where, _ in _at_rest(settings)}
    for kept in ("lake.results", "lake.flowindex", "lake.tracing-context", "audit"):
        assert any(f"/{kept}/" in where for where in scanned), kept
