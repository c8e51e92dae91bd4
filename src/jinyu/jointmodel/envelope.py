"""Signed protocol messages: a JSON header signed with Ed25519, followed by binary blobs (ciphertexts).

Frame: b"JNY1" | header length (4 bytes, big-endian) | header JSON | blob bytes one after another.
The signature covers the canonical header JSON, which lists each blob's length and SHA-256, so a blob cannot be
swapped either. Every message carries a fresh nonce and its time; a receiver refuses a nonce it has seen and a
time more than `MAX_SKEW` away from its clock (see docs/joint-modelling.md).
"""

from __future__ import annotations

import hashlib
import json
import secrets
import struct
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from jinyu.jointmodel.errors import MessageReplayed, ProtocolViolation, SignatureRejected

MAGIC = b"JNY1"
MAX_SKEW = timedelta(minutes=5)


def canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def new_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def private_pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def load_private(pem: bytes) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise SignatureRejected(detail="密钥不是 Ed25519 / the key file is not an Ed25519 key")
    return key


def public_hex(key: Ed25519PrivateKey) -> str:
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()


def sign(key: Ed25519PrivateKey, document: dict[str, Any]) -> str:
    return key.sign(canonical(document)).hex()


def verify(public_key_hex: str, document: dict[str, Any], signature_hex: str) -> None:
    try:
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key_hex)).verify(
            bytes.fromhex(signature_hex), canonical(document)
        )
    except (InvalidSignature, ValueError) as exc:
        raise SignatureRejected(
            detail="签名与已登记的公钥不符 / signature does not match the trusted key"
        ) from exc


@dataclass
class Message:
    kind: str
    job: str
    sender: str
    recipient: str
    fields: dict[str, Any] = field(default_factory=dict)
    blobs: list[bytes] = field(default_factory=list)
    nonce: str = field(default_factory=lambda: secrets.token_hex(16))
    at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())
    reply_to: str | None = None

    def header(self) -> dict[str, Any]:
        return {
            "v": 1,
            "kind": self.kind,
            "job": self.job,
            "sender": self.sender,
            "recipient": self.recipient,
            "nonce": self.nonce,
            "at": self.at,
            "reply_to": self.reply_to,
            "fields": self.fields,
            "blobs": [{"len": len(b), "sha256": hashlib.sha256(b).hexdigest()} for b in self.blobs],
        }


def encode(message: Message, key: Ed25519PrivateKey) -> bytes:
    header = message.header()
    header["sig"] = sign(key, header)
    head = canonical(header)
    return MAGIC + struct.pack(">I", len(head)) + head + b"".join(message.blobs)


def decode(frame: bytes, trusted: dict[str, str]) -> Message:
    """Parse and verify a frame against the trusted public keys (party name -> hex)."""
    if frame[:4] != MAGIC or len(frame) < 8:
        raise ProtocolViolation(detail="不是 JNY1 帧 / not a JNY1 frame")
    (head_len,) = struct.unpack(">I", frame[4:8])
    try:
        header = json.loads(frame[8 : 8 + head_len])
        signature = header.pop("sig")
        sender = header["sender"]
    except (ValueError, KeyError) as exc:
        raise ProtocolViolation(detail="帧头无法解析 / unreadable header") from exc
    if sender not in trusted:
        raise SignatureRejected(detail=f"未登记的参与方 / unknown party: {sender}")
    verify(trusted[sender], header, signature)
    blobs, offset = [], 8 + head_len
    for spec in header["blobs"]:
        blob = frame[offset : offset + spec["len"]]
        if hashlib.sha256(blob).hexdigest() != spec["sha256"]:
            raise SignatureRejected(detail="密文块与签名不符 / a blob does not match its signed digest")
        blobs.append(blob)
        offset += spec["len"]
    return Message(
        kind=header["kind"],
        job=header["job"],
        sender=sender,
        recipient=header["recipient"],
        fields=header["fields"],
        blobs=blobs,
        nonce=header["nonce"],
        at=header["at"],
        reply_to=header["reply_to"],
    )


class NonceBook:
    """Nonces already accepted for one job, kept in a file so a restarted party still refuses a replay."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.seen = set(path.read_text().split()) if path.exists() else set()

    def admit(self, message: Message, now: datetime | None = None) -> None:
        moment = now or datetime.now(UTC)
        try:
            sent = datetime.fromisoformat(message.at)
        except ValueError as exc:
            raise ProtocolViolation(detail="消息时间无效 / bad message time") from exc
        if abs(moment - sent) > MAX_SKEW:
            raise MessageReplayed(detail="消息时间超出允许范围 / message time outside the allowed window")
        if message.nonce in self.seen:
            raise MessageReplayed(detail=f"随机数已用过 / nonce already used: {message.nonce}")
        self.seen.add(message.nonce)
        with self.path.open("a") as f:
            f.write(message.nonce + "\n")
