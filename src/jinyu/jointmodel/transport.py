"""The guest's side of the wire: sign, send, capture and verify each request/answer pair."""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jinyu.core.errors import InvalidInput, JinyuError, NotAuthenticated, NotFound
from jinyu.jointmodel import envelope
from jinyu.jointmodel.envelope import Message, NonceBook
from jinyu.jointmodel.errors import JobNotAccepted, PartyUnreachable, ProtocolViolation
from jinyu.jointmodel.journal import capture
from jinyu.jointmodel.party import PartyDir
from jinyu.jointmodel.server import PATH

_BY_STATUS: dict[int, type[JinyuError]] = {401: NotAuthenticated, 404: NotFound, 422: InvalidInput}


@dataclass
class Channel:
    party: PartyDir
    job_id: str
    peer: str
    url: str
    ca_file: Path | None = None  # trust anchor of an https host URL (the system's when left out)
    timeout: float = 120.0
    bytes_sent: int = 0
    bytes_received: int = 0
    exchanges: int = 0
    _job_dir: Path = field(init=False)

    def __post_init__(self) -> None:
        self._job_dir = self.party.job_dir(self.job_id)
        self._nonces = NonceBook(self._job_dir / "nonces.txt")
        self._key = self.party.key
        self._trusted = self.party.peers()

    def call(
        self, kind: str, fields: dict[str, Any] | None = None, blobs: list[bytes] | None = None
    ) -> Message:
        request = Message(kind, self.job_id, self.party.name, self.peer, fields or {}, blobs or [])
        frame = envelope.encode(request, self._key)
        capture(self._job_dir / "capture.bin", b"S", frame)
        answer = self._post(frame)
        capture(self._job_dir / "capture.bin", b"R", answer)
        reply = envelope.decode(answer, self._trusted)
        if reply.sender != self.peer or reply.reply_to != request.nonce or reply.kind != kind + "-reply":
            raise ProtocolViolation(detail="答复与请求不对应 / the answer does not match the request")
        self._nonces.admit(reply)
        self.bytes_sent += len(frame)
        self.bytes_received += len(answer)
        self.exchanges += 1
        return reply

    def _post(self, frame: bytes) -> bytes:
        http = urllib.request.Request(
            self.url.rstrip("/") + PATH, data=frame, headers={"Content-Type": "application/octet-stream"}
        )
        try:
            tls = ssl.create_default_context(cafile=self.ca_file) if self.url.startswith("https:") else None
            with urllib.request.urlopen(http, timeout=self.timeout, context=tls) as response:
                body: bytes = response.read()
                return body
        except urllib.error.HTTPError as exc:
            problem = _problem(exc.read())
            error = _BY_STATUS.get(exc.code, JobNotAccepted if exc.code == 409 else ProtocolViolation)
            raise error(
                detail=f"{self.peer}: {problem.get('title', '')} {problem.get('detail', '')}".strip()
            ) from exc
        except (urllib.error.URLError, ConnectionError, TimeoutError, ssl.SSLError) as exc:
            raise PartyUnreachable(detail=f"{self.peer} @ {self.url}: {exc}") from exc


def _problem(body: bytes) -> dict[str, Any]:
    try:
        parsed: dict[str, Any] = json.loads(body)
        return parsed
    except ValueError:
        return {}
