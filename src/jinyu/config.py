"""The one Settings object. Only this module reads the environment (JINYU_* variables)."""

from __future__ import annotations

import os
import secrets
import time
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from jinyu.core import pseudokeys


class SettingsError(Exception):
    """Raised when the environment holds a bad setting; the message names the variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="JINYU_", extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    data_dir: Path = Field(
        default=Path("./var"), description="数据目录 / data directory (lake, keys, SQLite)"
    )
    database_url: str | None = Field(
        default=None, description="operational store URL; default SQLite in data dir"
    )
    signing_key: str | None = Field(default=None, description="token signing key (≥32 chars)")
    pseudonym_key: str | None = Field(default=None, description="HMAC key for pseudonymization (≥32 chars)")
    pseudonym_grace_days: int = Field(
        default=90,
        ge=0,
        le=3650,
        description="days an old-version pseudonym still resolves after a key rotation (jinyu keys rotate)",
    )
    quarantine_key: str | None = Field(
        default=None, description="secret that seals quarantined rows (AES-256-GCM, ≥32 chars)"
    )
    token_ttl_minutes: int = Field(default=60, ge=1, le=24 * 60)
    session_renew_minutes: int = Field(
        default=15,
        ge=1,
        le=24 * 60,
        description="a console session whose token has less than this left gets a new one on its next page",
    )
    session_max_minutes: int = Field(
        default=12 * 60,
        ge=1,
        le=7 * 24 * 60,
        description="a console session is never renewed past this long after its login",
    )
    login_max_failures: int = Field(default=5, ge=1, le=100)
    login_lockout_minutes: int = Field(default=15, ge=1, le=24 * 60)
    login_address_max_failures: int = Field(
        default=20,
        ge=1,
        le=10_000,
        description="failed logins from one client address, whatever the usernames, before it is refused",
    )
    login_address_window_minutes: int = Field(
        default=15,
        ge=1,
        le=24 * 60,
        description="window of the per-address count; a refused address waits this long",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    spark_master: str = "local[2]"
    tracing_warm: bool = Field(
        default=False,
        description="build the resident transfer index and tracing context at start-up (set by `jinyu serve`), "
        "not at the first request, and again after each load through the API",
    )
    chain_network_due_seconds: int = Field(
        default=0,
        ge=0,
        le=86_400,
        description="check this often whether a month of the stored chain network is due and build it "
        "(0: off; `jinyu serve` sets 30 unless given)",
    )
    audit_journal: bool = Field(
        default=True,
        description="server processes journal audit entries and seal them in the background (no global lock)",
    )
    audit_checkpoints: Path | None = Field(
        default=None,
        description="append-only file of signed audit checkpoints; default <data dir>/audit/checkpoints.jsonl",
    )
    audit_checkpoint_key: Path | None = Field(
        default=None,
        description="Ed25519 private key (PEM) signing them; default <data dir>/keys/audit_checkpoint_ed25519.pem",
    )
    audit_checkpoint_public_key: Path | None = Field(
        default=None,
        description="Ed25519 public key (PEM) verify checks them with; default the private key's",
    )
    audit_checkpoint_every: int = Field(
        default=1000, ge=0, le=10_000_000, description="a checkpoint after this many new entries (0: off)"
    )
    audit_checkpoint_seconds: int = Field(
        default=300, ge=0, le=86_400, description="a checkpoint this often while entries arrive (0: off)"
    )
    db_statistics_seconds: int = Field(
        default=10,
        ge=0,
        le=86_400,
        description="PostgreSQL with autovacuum off: analyse (and vacuum) tables that changed, this often "
        "(0: off; does nothing where autovacuum is on)",
    )
    audit_unauthenticated_seconds: int = Field(
        default=60, ge=1, le=86_400, description="at most one audited 401 per client address in this time"
    )
    max_inflight: int = Field(
        default=8, ge=1, le=1024, description="API requests handled at once per process (the rest queue)"
    )
    max_batched: int = Field(
        default=256,
        ge=1,
        le=100_000,
        description="instant settlements handled at once per process (they wait for its settlement thread)",
    )
    settle_batch: int = Field(
        default=32, ge=1, le=1000, description="most instant settlements one transaction settles (PostgreSQL)"
    )
    settle_threads: int = Field(default=1, ge=1, le=16, description="settlement threads per API process")
    settle_window_ms: float = Field(
        default=0.0,
        ge=0,
        le=200,
        description="under load, how long a settlement batch waits (from its first discharge's arrival) for more "
        "to join it; 0 (default): never waits (docs/claims.md: no CPU gain at 300/s, higher latency)",
    )
    max_heavy: int = Field(
        default=2, ge=1, le=64, description="long-running API requests (uploads, batches) at once per process"
    )
    max_queued: int = Field(
        default=2000, ge=0, le=100_000, description="API requests waiting per process before 503 is answered"
    )

    max_body_bytes: int = Field(
        default=1024 * 1024,
        ge=1024,
        le=1024**3,
        description="request body limit of every route but the uploads below, in bytes (larger: 413)",
    )
    max_ingest_upload_bytes: int = Field(
        default=64 * 1024 * 1024,
        ge=1024,
        le=16 * 1024**3,
        description="request body limit of POST /api/v1/ingest/{dataset} uploads, in bytes (larger: 413)",
    )
    max_statement_upload_bytes: int = Field(
        default=33 * 1024 * 1024,
        ge=1024,
        le=1024**3,
        description="request body limit of statement uploads (the statement itself: ≤ 32 MiB), in bytes",
    )

    @field_validator("signing_key", "pseudonym_key", "quarantine_key")
    @classmethod
    def _long_enough(cls, v: str | None) -> str | None:
        if v is not None and len(v) < 32:
            raise ValueError("must be at least 32 characters / 密钥至少 32 个字符")
        return v

    @field_validator("database_url")
    @classmethod
    def _known_dialect(cls, v: str | None) -> str | None:
        if v is not None and not v.startswith(("sqlite", "postgresql")):
            raise ValueError(
                "must start with sqlite:// or postgresql+psycopg:// / 仅支持 SQLite 或 PostgreSQL"
            )
        return v

    @model_validator(mode="after")
    def _production_needs_keys(self) -> Settings:
        if self.env == "production":
            missing = [
                n for n in ("signing_key", "pseudonym_key", "database_url") if getattr(self, n) is None
            ]
            if missing:
                names = ", ".join("JINYU_" + n.upper() for n in missing)
                raise ValueError(
                    f"production requires {names} from the environment / 生产环境必须设置 {names}"
                )
        return self

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'jinyu.sqlite3').resolve()}"

    @property
    def lake_dir(self) -> Path:
        return self.data_dir / "lake"

    @property
    def audit_checkpoints_path(self) -> Path:
        return self.audit_checkpoints or self.data_dir / "audit" / "checkpoints.jsonl"

    @property
    def audit_checkpoint_key_path(self) -> Path:
        return self.audit_checkpoint_key or self.data_dir / "keys" / "audit_checkpoint_ed25519.pem"

    def key(self, name: Literal["signing_key", "pseudonym_key", "quarantine_key"]) -> bytes:
        """The named key: from the environment, else generated once into the data dir (0600)."""
        value = getattr(self, name)
        if value is not None:
            return str(value).encode()
        return _key_file(self.data_dir / "keys" / name).encode()

    def pseudonym_keys(self) -> pseudokeys.Keyring:
        """Every pseudonym key version: 1 is `pseudonym_key`, later ones the keyring file of `jinyu keys`."""
        return pseudokeys.load(self.keys_dir, self.key("pseudonym_key"), self.pseudonym_grace_days)

    @property
    def keys_dir(self) -> Path:
        return self.data_dir / "keys"


# A key file's content, kept per process while the file's stat (device, inode, size, modification and change
# times) stays the same: a request reads the signing key two or three times, and opening the file each time
# cost more than the stat. A key file rotated by rename (a new inode) or rewritten in place (new change time;
# the change time cannot be set back) is read again at the next use. A file changed within the last
# `_KEY_SETTLE_NS` is read every time, not kept: two writes in one tick of the file system's clock could leave
# the same times, and the first content would be kept for the second.
_KEY_SETTLE_NS = 2_000_000_000
_key_files: dict[Path, tuple[tuple[int, ...], str]] = {}


def _now_ns() -> int:
    return time.time_ns()


def _stamp(st: os.stat_result) -> tuple[int, ...]:
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def _key_file(path: Path) -> str:
    try:
        before = os.stat(path)
    except FileNotFoundError:
        return _new_key_file(path)
    stamp = _stamp(before)
    kept = _key_files.get(path)
    if kept is not None and kept[0] == stamp:
        return kept[1]
    value = path.read_text().strip()
    settled = _now_ns() - max(before.st_mtime_ns, before.st_ctime_ns) > _KEY_SETTLE_NS
    if settled and _stamp(os.stat(path)) == stamp:  # unchanged while it was read
        _key_files[path] = (stamp, value)
    else:
        _key_files.pop(path, None)
    return value


def _new_key_file(path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    value = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(value)
    return value


def load_settings(**overrides: object) -> Settings:
    """Build settings, turning a validation error into one readable message per bad variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            field = str(err["loc"][0]) if err["loc"] else "settings"
            var = "JINYU_" + field.upper() if err["loc"] else "JINYU_*"
            lines.append(f"{var}: {err['msg']}")
        raise SettingsError("配置错误 / bad settings:\n  " + "\n  ".join(lines)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
