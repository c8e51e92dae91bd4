"""Credit card errors, named as facts."""

from __future__ import annotations

from jinyu.core.errors import Conflict, NotFound, PermissionDenied


class CardNotFound(NotFound):
    """Also what a bank without a covering grant, or another enterprise, is told: the card's existence is
    not disclosed to anyone not entitled to see some of it."""

    code = "credit_card_not_found"
    title = "信用信息名片不存在 / Credit card not found"


class SnapshotNotFound(NotFound):
    code = "credit_snapshot_not_found"
    title = "名片快照不存在 / Card snapshot not found"


class RegistrationRequired(PermissionDenied):
    code = "registration_required"
    title = "须先完成实名注册 / Real-name registration required first"


class SnapshotIntegrityFailed(Conflict):
    code = "credit_snapshot_integrity_failed"
    title = "名片快照校验失败 / Card snapshot failed its hash check"
