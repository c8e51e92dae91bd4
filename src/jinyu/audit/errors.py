"""Errors of the audit domain, named as facts."""

from __future__ import annotations

from jinyu.core.errors import Conflict, InvalidInput


class AuditEntryRejected(InvalidInput):
    """A caller tried to record something the trail must never hold (bad action name, a raw identifier...).

    The trail is append-only and hash-chained: whatever lands in it can never be taken out again without
    breaking the chain, so bad content is refused before it is written.
    """

    code = "audit_entry_rejected"
    title = "审计记录内容不被接受 / Audit entry rejected"


class AuditAppendConflict(Conflict):
    """The chain head moved under an appender that believed it held the head lock; retry the transaction."""

    code = "audit_append_conflict"
    title = "审计链并发追加冲突 / Concurrent audit append conflict"


class AuditChainHeadMissing(Conflict):
    """Entries exist but the head row is gone: appends fail closed until an operator restores it."""

    code = "audit_chain_head_missing"
    title = "审计链头缺失 / Audit chain head missing"


class AuditChainBroken(Conflict):
    """An append found the chain tampered with (a row stored past the head); appends fail closed."""

    code = "audit_chain_broken"
    title = "审计链已损坏 / Audit chain broken"


class CheckpointRefused(Conflict):
    """A signed checkpoint was not written: the trail is empty, or the chain does not hold since the last
    checkpoint (signing it would bless the tampering)."""

    code = "audit_checkpoint_refused"
    title = "拒绝写入审计检查点 / Audit checkpoint refused"


class CheckpointKeyUnusable(Conflict):
    """The checkpoint signing or verifying key file cannot be read as an Ed25519 key."""

    code = "audit_checkpoint_key_unusable"
    title = "审计检查点密钥不可用 / Audit checkpoint key unusable"
