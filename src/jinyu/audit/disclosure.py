"""谁使用了我的数据 / who read an enterprise's data: the audit trail's reads of it by other organisations.

The enterprise (its administrator, who grants and revokes) sees every read of its data by others, whatever the
tenant of the reader: credit card views, government-data summaries, statement checks and the like, each with the
reader's organisation, the purpose and the outcome. Regulators, who read the whole trail anyway, may ask too.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from jinyu.audit import repository
from jinyu.audit.service import record, seal_waiting
from jinyu.core.auth import Perm, Principal
from jinyu.core.errors import PermissionDenied

MAX_READS = 200


@dataclass(frozen=True)
class DataRead:
    at: dt.datetime
    reader_org_id: str
    reader: str
    action: str
    purpose: str | None
    outcome: str


def reads_of_org(session: Session, principal: Principal, org_id: str, limit: int = 50) -> list[DataRead]:
    """Newest first, at most `limit` (≤ 200). The look itself is audited."""
    own = principal.org_id == org_id and principal.has(Perm.CONSENT_GRANT)
    if not (own or (principal.has(Perm.AUDIT_READ) and principal.sees_everything)):
        raise PermissionDenied(detail="仅数据所属企业或监管可查 / only the data's owner or a regulator")
    seal_waiting(session)  # reads journaled a moment ago show too
    rows = repository.reads_of_org(session, org_id, min(max(limit, 1), MAX_READS))
    record(session, principal, action="audit.reads_of_org", subject_type="enterprise", subject_ids=[org_id])
    return [DataRead(r.at, r.org_id, r.actor_name, r.action, r.purpose, r.outcome) for r in rows]
