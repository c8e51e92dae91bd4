"""Errors of joint modelling, named as facts."""

from __future__ import annotations

from jinyu.core.errors import InvalidInput, JinyuError, NotAuthenticated, NotFound


class SignatureRejected(NotAuthenticated):
    code = "joint_signature_rejected"
    title = "签名无效 / Signature rejected"


class MessageReplayed(NotAuthenticated):
    code = "joint_message_replayed"
    title = "消息重放 / Message replayed"


class JobNotAccepted(JinyuError):
    status = 409
    code = "joint_job_not_accepted"
    title = "联合建模任务未被接受 / Joint job not accepted"


class JobUnknown(NotFound):
    code = "joint_job_unknown"
    title = "联合建模任务不存在 / Joint job unknown"


class PartyUnreachable(JinyuError):
    status = 503
    code = "joint_party_unreachable"
    title = "对方节点不可达 / Peer party unreachable"


class ProtocolViolation(JinyuError):
    status = 409
    code = "joint_protocol_violation"
    title = "协议消息不符 / Protocol violation"


class BadPartyData(InvalidInput):
    code = "joint_bad_party_data"
    title = "参与方数据无效 / Bad party data"


class AuditChainBroken(JinyuError):
    status = 500
    code = "joint_audit_chain_broken"
    title = "审计链断裂 / Audit chain broken"
