"""HTTP transport of the host: one POST endpoint taking and returning signed frames, every frame captured.

POST /joint/v1/messages, body a JNY1 frame (envelope.py) → 200 with the signed answer frame, or a
problem+json error (401 bad signature or replay, 404 unknown job, 409 protocol or acceptance, 422 bad input).
"""

from __future__ import annotations

import contextlib
import json
import logging
import ssl
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

from jinyu.core.errors import JinyuError
from jinyu.jointmodel import envelope, he, jobs
from jinyu.jointmodel.envelope import Message, NonceBook
from jinyu.jointmodel.errors import ProtocolViolation, SignatureRejected
from jinyu.jointmodel.host import HostSession
from jinyu.jointmodel.journal import capture
from jinyu.jointmodel.party import PartyDir

PATH = "/joint/v1/messages"
log = logging.getLogger("jinyu.jointmodel")


class HostNode:
    """Verifies, captures and dispatches frames; one session per job, rebuilt by the guest's hello."""

    def __init__(self, party: PartyDir, cipher: he.GradientCipher = he.CKKS) -> None:
        self.party = party
        self.cipher = cipher
        self.sessions: dict[str, HostSession] = {}
        self.data = party.load_data()
        self.lock = threading.Lock()

    def answer(self, frame: bytes) -> bytes:
        with self.lock:
            message = envelope.decode(frame, self.party.peers())
            job_dir = self.party.job_dir(message.job)
            capture(job_dir / "capture.bin", b"R", frame)
            if message.recipient != self.party.name:
                raise SignatureRejected(detail=f"消息不是发给本方的 / not addressed to {self.party.name}")
            NonceBook(job_dir / "nonces.txt").admit(message)
            session = self._session(message)
            fields, blobs = session.handle(message)
            reply = Message(
                kind=message.kind + "-reply",
                job=message.job,
                sender=self.party.name,
                recipient=message.sender,
                fields=fields,
                blobs=blobs,
                reply_to=message.nonce,
            )
            out = envelope.encode(reply, self.party.key)
            capture(job_dir / "capture.bin", b"S", out)
            return out

    def _session(self, message: Message) -> HostSession:
        spec, _ = jobs.accepted_spec(self.party, message.job)
        if message.sender != spec["guest"]:
            raise SignatureRejected(detail=f"{message.sender} 不是本任务的 guest / is not this job's guest")
        if message.kind == "score-rows":  # scoring with a registered model needs no training session
            return HostSession(self.party, spec, self.data)
        if message.kind == "hello":
            self.sessions[message.job] = HostSession(self.party, spec, self.data, cipher=self.cipher)
        session = self.sessions.get(message.job)
        if session is None:
            raise ProtocolViolation(detail="会话未建立，请先 hello / no session: send hello first")
        return session


def make_server(
    party: PartyDir,
    host: str,
    port: int,
    tls_cert: Path | None = None,
    tls_key: Path | None = None,
    cipher: he.GradientCipher = he.CKKS,
) -> HTTPServer:
    """The host's HTTP server; with a certificate and key it speaks HTTPS only (frames then unreadable on the wire).
    `cipher` is CKKS for every party the CLI starts; only the benchmark passes another."""
    node = HostNode(party, cipher)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            if self.path != PATH:
                self._send(404, json.dumps({"title": "未找到 / Not found", "status": 404}).encode(), "json")
                return
            frame = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            try:
                self._send(200, node.answer(frame), "octet-stream")
            except JinyuError as exc:
                job = _job_of(frame)
                if job:
                    _note_rejection(party, job, exc)
                self._send(exc.status, json.dumps(exc.problem(PATH), ensure_ascii=False).encode(), "json")

        def _send(self, status: int, body: bytes, kind: str) -> None:
            self.send_response(status)
            media = "application/problem+json" if kind == "json" else "application/octet-stream"
            self.send_header("Content-Type", media)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            log.info("joint %s", format % args)

    server = HTTPServer((host, port), Handler)
    if tls_cert and tls_key:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(tls_cert, tls_key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    return server


def _job_of(frame: bytes) -> str | None:
    try:
        return str(json.loads(frame[8 : 8 + int.from_bytes(frame[4:8], "big")])["job"])
    except (ValueError, KeyError, TypeError):
        return None


def _note_rejection(party: PartyDir, job: str, exc: JinyuError) -> None:
    with contextlib.suppress(JinyuError):  # an unknown job has no audit file; the answer already says why
        party.audit(job, "message_rejected", {"code": exc.code, "detail": exc.detail})
