"""A settlement worker that dies on purpose, run as a child process by test_crash_pg.py.

Reads a JSON job on stdin: the database URL, the hospital principal and a settlement request, and a mode:
- `hang`: settle and flush (every write done, row locks held, nothing committed), say READY, then wait to be
  killed;
- `die_after_commit`: settle and commit, say COMMITTED, then kill itself before anything is answered.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time

from jinyu.claim import service
from jinyu.claim.schemas import SettleIn
from jinyu.core import db
from jinyu.core.auth import OrgKind, Principal, Role


def main() -> None:
    job = json.loads(sys.stdin.read())
    factory = db.make_sessionmaker(db.make_engine(job["url"]))
    p = job["principal"]
    his = Principal(
        subject_id=p["subject_id"],
        username="crash-worker",
        org_id=p["org_id"],
        org_kind=OrgKind.HOSPITAL,
        tenant_id=p["tenant_id"],
        org_path=p["org_path"],
        roles=frozenset({Role.HOSPITAL_SYSTEM}),
        is_service=True,
    )
    request = SettleIn.model_validate(job["request"])
    key = job["key"].encode()
    session = factory()
    service.settle(session, his, request, key)
    session.flush()
    if job["mode"] == "hang":
        print("READY", flush=True)
        time.sleep(600)
    session.commit()
    print("COMMITTED", flush=True)
    os.kill(os.getpid(), signal.SIGKILL)


if __name__ == "__main__":
    main()
