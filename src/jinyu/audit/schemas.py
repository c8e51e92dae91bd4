"""Input and output models of the audit trail (HTTP and CLI)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from jinyu.audit.checkpoints import Checkpoint, FileCheck
from jinyu.audit.rules import MAX_SUBJECT_ID_CHARS, CheckpointRef, Outcome, Problem, VerifyResult
from jinyu.core.clock import SHANGHAI
from jinyu.core.errors import FieldError, InvalidInput
from jinyu.core.pagination import MAX_LIMIT

_ACTION_FILTER_RE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*(\.\*)?$")
_CURSOR_RE = re.compile(r"^[1-9][0-9]{0,18}$")

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)


class AuditEntryOut(BaseModel):
    seq: int = Field(description="链上位置，连续无缺 / chain position, gapless")
    id: str
    at: dt.datetime = Field(description="发生时间（UTC）/ when it happened (UTC)")
    actor_id: str
    actor_name: str
    org_id: str
    tenant_id: str
    action: str = Field(examples=["party.org.read"])
    subject_type: str
    subject_ids: list[str]
    purpose: str | None
    outcome: Outcome
    detail: dict[str, Any] | None
    request_id: str
    prev_hash: str
    hash: str


class CheckpointRefOut(BaseModel):
    n: int = Field(description="检查点序号 / checkpoint number in its file")
    seq: int = Field(description="它签名时的链头位置 / the head seq it signed")
    hash: str
    at: dt.datetime = Field(description="签名时间（UTC）/ when it was signed (UTC)")

    @classmethod
    def of(cls, ref: CheckpointRef) -> CheckpointRefOut:
        return cls(n=ref.n, seq=ref.seq, hash=ref.hash, at=ref.at)


class CheckpointOut(CheckpointRefOut):
    prev: str = Field(description="前一行的 SHA-256 / SHA-256 of the previous line (64 zeros for #1)")
    key: str = Field(description="签名公钥指纹 / fingerprint of the signing public key")
    sig: str = Field(description="Ed25519 签名（base64）/ Ed25519 signature (base64)")

    @classmethod
    def of_checkpoint(cls, cp: Checkpoint) -> CheckpointOut:
        return cls(n=cp.n, seq=cp.seq, hash=cp.hash, at=cp.at, prev=cp.prev, key=cp.key, sig=cp.sig)


class CheckpointListOut(BaseModel):
    items: list[CheckpointOut] = Field(description="最新在前 / newest first")
    count: int = Field(description="文件中校验通过的检查点数 / checkpoints in the file that check out")
    ok: bool = Field(description="整个文件的序列与签名均有效 / the whole file's sequence and signatures hold")
    problem: str | None = Field(description="第一个问题 / the first problem, naming the checkpoint")
    sink: str = Field(description="检查点文件 / the checkpoint file")

    @classmethod
    def of(cls, items: list[Checkpoint], check: FileCheck, sink: str) -> CheckpointListOut:
        return cls(
            items=[CheckpointOut.of_checkpoint(cp) for cp in items],
            count=check.count,
            ok=check.ok,
            problem=check.problem,
            sink=sink,
        )


class VerifyResultOut(BaseModel):
    ok: bool
    checked: int = Field(description="校验通过的条数 / entries checked before the first problem")
    head_seq: int | None = Field(description="链头位置 / head seq (anchor it elsewhere to detect a rewrite)")
    head_hash: str | None
    first_bad_seq: int | None = Field(description="第一条有问题的记录 / the first bad entry's seq")
    problem: Problem | None = Field(
        description="changed | removed | reordered | inserted | head | checkpoint"
    )
    checkpoint: CheckpointRefOut | None = Field(
        default=None, description="校验所依据的最后一个签名检查点 / the last signed checkpoint held against"
    )
    message: str = Field(description="中文 / English")

    @classmethod
    def of(cls, result: VerifyResult) -> VerifyResultOut:
        return cls(
            ok=result.ok,
            checked=result.checked,
            head_seq=result.head.seq if result.head else None,
            head_hash=result.head.hash if result.head else None,
            first_bad_seq=result.first_bad_seq,
            problem=result.problem,
            checkpoint=CheckpointRefOut.of(result.checkpoint) if result.checkpoint else None,
            message=result.message,
        )


class AuditFilter(BaseModel):
    """Search filters; all optional and combined with AND."""

    # No extra="forbid": FastAPI hands every query parameter to each query model of an endpoint.
    model_config = ConfigDict(str_strip_whitespace=True)

    actor_id: str | None = Field(None, max_length=64, description="操作者 / actor (user or service) id")
    org_id: str | None = Field(None, max_length=64, description="操作者机构 / actor's organisation id")
    action: str | None = Field(
        None, max_length=100, description="动作，精确或前缀 / action, exact or prefix", examples=["party.*"]
    )
    subject_type: str | None = Field(None, max_length=64, description="对象类型 / subject type")
    subject_id: str | None = Field(
        None, max_length=MAX_SUBJECT_ID_CHARS, description="对象 id / one of the subject ids"
    )
    outcome: Outcome | None = None
    since: dt.datetime | None = Field(
        None, description="起（含）；无时区按北京时间 / from (inclusive); no offset means Asia/Shanghai"
    )
    until: dt.datetime | None = Field(
        None, description="止（不含）；无时区按北京时间 / to (exclusive); no offset means Asia/Shanghai"
    )

    @field_validator("action")
    @classmethod
    def _action_pattern(cls, v: str | None) -> str | None:
        if v is not None and not _ACTION_FILTER_RE.match(v):
            raise ValueError(
                "应为 party.org.read 或前缀 party.* / must be like party.org.read or a prefix party.*"
            )
        return v

    @field_validator("since", "until")
    @classmethod
    def _as_utc(cls, v: dt.datetime | None) -> dt.datetime | None:
        if v is None:
            return None
        aware = v.replace(tzinfo=SHANGHAI) if v.tzinfo is None else v
        return aware.astimezone(dt.UTC)

    @model_validator(mode="after")
    def _range(self) -> AuditFilter:
        if self.since and self.until and self.since >= self.until:
            raise ValueError("起始时间须早于结束时间 / since must be before until")
        return self

    @property
    def action_prefix(self) -> str | None:
        """`party.*` → `party.`; None for an exact action."""
        return self.action[:-1] if self.action and self.action.endswith(".*") else None

    def describe(self) -> dict[str, Any]:
        """The filters that were set, as JSON values (recorded with each search)."""
        return self.model_dump(mode="json", exclude_none=True)


class PageRequest(BaseModel):
    limit: int = Field(50, ge=1, le=MAX_LIMIT, description=f"每页条数，≤{MAX_LIMIT} / page size")
    cursor: str | None = Field(
        None, description="上一页返回的 next_cursor / the next_cursor of the previous page", max_length=19
    )

    @field_validator("cursor")
    @classmethod
    def _seq_cursor(cls, v: str | None) -> str | None:
        if v is not None and not _CURSOR_RE.match(v):
            raise ValueError("无效游标 / invalid cursor")
        return v

    @property
    def before_seq(self) -> int | None:
        """Entries strictly older than this seq (the cursor is the last seq of the previous page)."""
        return int(self.cursor) if self.cursor else None


class CursorPage(BaseModel, Generic[T]):
    """Keyset pages, not core's offset pages: the trail only grows, so a seq cursor is stable and cheap where
    OFFSET and a COUNT(*) total over millions of rows are neither."""

    items: list[T]
    limit: int
    next_cursor: str | None = Field(
        description="更早的一页；无则为空 / cursor of the next (older) page, if any"
    )


def build(model: type[M], **values: Any) -> M:
    """Validate CLI options into a schema, turning pydantic's error into our InvalidInput (exit code 1)."""
    try:
        return model.model_validate({k: v for k, v in values.items() if v is not None})
    except ValidationError as exc:
        fields = [FieldError(".".join(str(p) for p in e["loc"]) or "input", e["msg"]) for e in exc.errors()]
        raise InvalidInput(
            detail="; ".join(f"{f.field}: {f.message}" for f in fields), fields=fields
        ) from None
