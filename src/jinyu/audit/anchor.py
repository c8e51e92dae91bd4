"""Where signed checkpoints live and the key that signs them — both outside the database.

- The sink: an append-only JSON-lines file (`JINYU_AUDIT_CHECKPOINTS`, default
  `<data dir>/audit/checkpoints.jsonl`). Every write opens it `O_APPEND`, takes an exclusive `flock` (so
  processes sharing it never interleave or fork the checkpoint sequence), appends one line and `fsync`s.
  Point it at storage the database's owner cannot rewrite (another host's mount, a file with `chattr +a`).
- The key: an Ed25519 private key in PEM (`JINYU_AUDIT_CHECKPOINT_KEY`, default
  `<data dir>/keys/audit_checkpoint_ed25519.pem`, generated 0600 on first use). Verifiers can hold the public
  key alone (`JINYU_AUDIT_CHECKPOINT_PUBLIC_KEY`), which also pins it: a replaced private key no longer
  matches the checkpoints.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_pem_private_key,
    load_pem_public_key,
)

from jinyu.audit import checkpoints
from jinyu.audit.checkpoints import Checkpoint, FileCheck
from jinyu.audit.errors import CheckpointKeyUnusable
from jinyu.config import Settings

_TAIL_CHUNK = 4096


@dataclass(frozen=True)
class Anchors:
    """The checkpoint file and the keys, as the settings name them."""

    sink: Path
    key_path: Path
    public_key_path: Path | None = None

    # ------------------------------------------------------------------------------------------ keys

    def signing_key(self) -> Ed25519PrivateKey:
        """The private key, generated (0600, its directory 0700) when the file does not exist yet."""
        if not self.key_path.exists():
            _create_key(self.key_path)
        try:
            key = load_pem_private_key(self.key_path.read_bytes(), password=None)
        except (ValueError, TypeError, OSError) as exc:
            raise CheckpointKeyUnusable(detail=f"{self.key_path}: {exc}") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise CheckpointKeyUnusable(
                detail=f"{self.key_path}: 不是 Ed25519 私钥 / not an Ed25519 private key"
            )
        return key

    def public_key(self) -> Ed25519PublicKey | None:
        """The key checkpoints are checked with: the configured public key, else the private key's; None
        when neither file exists (verification then refuses any checkpoint it finds)."""
        if self.public_key_path is not None:
            try:
                public = load_pem_public_key(self.public_key_path.read_bytes())
            except (ValueError, TypeError, OSError) as exc:
                raise CheckpointKeyUnusable(detail=f"{self.public_key_path}: {exc}") from None
            if not isinstance(public, Ed25519PublicKey):
                raise CheckpointKeyUnusable(
                    detail=f"{self.public_key_path}: 不是 Ed25519 公钥 / not an Ed25519 public key"
                )
            return public
        if not self.key_path.exists():
            return None
        return self.signing_key().public_key()

    def public_pem(self) -> str:
        public = self.public_key() or self.signing_key().public_key()
        return public.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()

    # ------------------------------------------------------------------------------------------ the file

    def lines(self) -> Iterator[str]:
        """Every line of the checkpoint file, streamed (none when it does not exist yet)."""
        try:
            f = self.sink.open(encoding="utf-8", errors="replace")  # a garbled line is named, not a crash
        except FileNotFoundError:
            return
        with f:
            yield from f

    def check(self) -> FileCheck:
        """The whole file checked: sequence, links and every signature. A file that cannot be read fails."""
        try:
            return checkpoints.check_file(self.lines(), self.public_key(), self.sink.name)
        except OSError as exc:
            return FileCheck(
                None,
                0,
                f"无法读取签名检查点文件 {self.sink.name} / cannot read the signed checkpoint file "
                f"{self.sink.name}: {exc.strerror or type(exc).__name__}",
            )

    @contextmanager
    def appending(self) -> Iterator[Appender]:
        """The file opened for appending under an exclusive lock, held until the block ends."""
        self.sink.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.sink, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield Appender(fd)
        finally:
            os.close(fd)  # releases the lock


class Appender:
    def __init__(self, fd: int) -> None:
        self.fd = fd

    def last_line(self) -> str | None:
        """The file's last non-empty line, read backwards from its end."""
        end = os.fstat(self.fd).st_size
        data = b""
        pos = end
        while pos > 0:
            step = min(_TAIL_CHUNK, pos)
            pos -= step
            data = os.pread(self.fd, step, pos) + data
            stripped = data.rstrip(b"\n")
            if b"\n" in stripped:
                return stripped.rsplit(b"\n", 1)[1].decode("utf-8", errors="replace")
        stripped = data.rstrip(b"\n")
        return stripped.decode("utf-8", errors="replace") if stripped else None

    def append(self, cp: Checkpoint) -> None:
        """One write of the whole line, then fsync: the line is on disk before anyone is told it exists."""
        data = (cp.line() + "\n").encode()
        written = os.write(self.fd, data)
        if written != len(data):
            raise OSError(f"short write to the checkpoint file ({written} of {len(data)} bytes)")
        os.fsync(self.fd)


def _create_key(path: Path) -> None:
    """Write a new key beside the target, then link it into place: another process sees no key or a whole
    one, and when two race, the first link wins and both use that key."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    pem = Ed25519PrivateKey.generate().private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(pem)
            f.flush()
            os.fsync(f.fileno())
        with suppress(FileExistsError):  # another process linked its key first: use that one
            os.link(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def anchors_for(settings: Settings) -> Anchors:
    return Anchors(
        sink=settings.audit_checkpoints_path,
        key_path=settings.audit_checkpoint_key_path,
        public_key_path=settings.audit_checkpoint_public_key,
    )
