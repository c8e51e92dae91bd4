"""The host's side of the protocol (the hub, holding government features, no labels).

`HostSession` answers one guest's messages for one job; `serve` puts it behind HTTP on one port.
What each answer reveals is listed message by message in docs/joint-modelling.md.
"""

from __future__ import annotations

import json
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from jinyu.core.errors import InvalidInput
from jinyu.jointmodel import he, jobs, psi
from jinyu.jointmodel.envelope import Message
from jinyu.jointmodel.errors import ProtocolViolation
from jinyu.jointmodel.party import PartyData, PartyDir, write_quarantine
from jinyu.jointmodel.registry import for_job, register
from jinyu.jointmodel.rules import (
    TAYLOR_SLOPE,
    Scale,
    Vector,
    bin_points,
    card_points,
    is_validation,
    quantile_edges,
)

MAX_SCORED_ROWS = 100_000
# One worker: a batch's pieces are computed while the HTTP thread waits for the guest's next frame.
_BACKGROUND = ThreadPoolExecutor(max_workers=1, thread_name_prefix="joint-pieces")
# PSI answers run here, off the HTTP thread and off the node's lock: `psi` only starts one and the guest polls
# with `psi-result`, so no request lasts as long as a PSI (34-169 s for 30,000 x 30,000 ids, measured) and other
# jobs' frames are answered meanwhile. Two workers: two banks' PSIs at once on a 2-core host.
_PSI = ThreadPoolExecutor(max_workers=2, thread_name_prefix="joint-psi")


@dataclass
class HostSession:
    party: PartyDir
    spec: dict[str, Any]
    data: PartyData
    context: Any = None
    guest_context: Any = None
    train_rows: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    valid_rows: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    weights: Vector = field(default_factory=lambda: np.zeros(0))
    batch_rows: np.ndarray | None = None
    pieces: Future[tuple[list[bytes], Vector]] | None = None
    pending: tuple[int, int, Vector] | None = None
    psi_answer: Future[tuple[bytes, bytes]] | None = None
    guest_columns: int = 0  # the guest's signed width (+ its intercept): the products decrypted a batch
    rng: np.random.Generator = field(default_factory=np.random.default_rng)
    cipher: he.GradientCipher = he.CKKS

    @property
    def job_id(self) -> str:
        return str(self.spec["job_id"])

    def handle(self, message: Message) -> tuple[dict[str, Any], list[bytes]]:
        handler = getattr(self, "on_" + message.kind.replace("-", "_"), None)
        if handler is None:
            raise ProtocolViolation(detail=f"未知消息类型 / unknown message kind: {message.kind}")
        result: tuple[dict[str, Any], list[bytes]] = handler(message)
        return result

    def on_hello(self, message: Message) -> tuple[dict[str, Any], list[bytes]]:
        jobs.check_peer_acceptance(
            message.fields["acceptance"], self.spec, self.party.peers()[self.spec["guest"]]
        )
        _, own = jobs.accepted_spec(self.party, self.job_id)
        jobs.check_own_columns(own, self.data.features.shape[1])
        self.guest_columns = jobs.peer_columns(message.fields["acceptance"]) + 1
        self.guest_context = self.cipher.load_public(message.blobs[0])
        self.context = self.cipher.new_secret()
        write_quarantine(self.party, self.job_id, self.data)
        self.party.audit(
            self.job_id, "session_opened", {"guest": message.sender, "guest_products": self.guest_columns}
        )
        return {"acceptance": own}, [self.cipher.public_bytes(self.context)]

    def on_psi(self, message: Message) -> tuple[dict[str, Any], list[bytes]]:
        """Start the PSI answer in the background and say so at once; the guest fetches it with `psi-result`."""
        if self.psi_answer is not None:
            raise ProtocolViolation(detail="PSI 已在进行 / a PSI is already under way for this session")
        if len(message.blobs) != 1:
            raise ProtocolViolation(detail="PSI 请求须为一个数据块 / the PSI request is one blob")
        reveal = self.spec["psi"] == "intersection"
        self.psi_answer = _PSI.submit(psi.serve, self.data.ids, message.blobs[0], reveal)
        return {"pending": True}, []

    def on_psi_result(self, message: Message) -> tuple[dict[str, Any], list[bytes]]:
        """The PSI answer when it is ready (`pending` false, two blobs), else `pending` true and nothing."""
        if self.psi_answer is None:
            raise ProtocolViolation(detail="先发 psi / psi must come first")
        if not self.psi_answer.done():
            return {"pending": True}, []
        try:
            setup, response = self.psi_answer.result()
        except Exception as exc:  # the PSI library's parse errors are untyped
            raise ProtocolViolation(
                detail="PSI 请求无法处理 / the PSI request could not be answered"
            ) from exc
        reveal = self.spec["psi"] == "intersection"
        self.party.audit(self.job_id, "psi_answered", {"host_rows": len(self.data.ids), "reveal": reveal})
        return {"pending": False}, [setup, response]

    def on_align(self, message: Message) -> tuple[dict[str, Any], list[bytes]]:
        position = {row_id: i for i, row_id in enumerate(self.data.ids)}
        ids = message.fields["ids"]
        unknown = [i for i in ids if i not in position]
        if unknown or ids != sorted(set(ids)):
            raise ProtocolViolation(
                detail="对齐 id 不在本方集合内或未排序 / alignment ids unknown or unsorted"
            )
        seed, share = self.spec["seed"], self.spec["valid_share"]
        self.train_rows = np.array(
            [position[i] for i in ids if not is_validation(i, seed, share)], dtype=np.int64
        )
        self.valid_rows = np.array(
            [position[i] for i in ids if is_validation(i, seed, share)], dtype=np.int64
        )
        self.party.audit(self.job_id, "aligned", {"rows": len(ids), "train": len(self.train_rows)})
        return {"rows": len(ids)}, []

    def on_start(self, message: Message) -> tuple[dict[str, Any], list[bytes]]:
        epoch = int(message.fields["epoch"])
        if epoch == 0:
            self.weights = np.zeros(self.data.features.shape[1])
        else:
            path = self.party.job_dir(self.job_id) / "checkpoints" / f"epoch-{epoch}.json"
            if not path.exists():
                raise ProtocolViolation(detail=f"没有第 {epoch} 轮检查点 / no checkpoint of epoch {epoch}")
            self.weights = np.array(json.loads(path.read_text())["weights"])
        self.pending = None
        self.party.save_state(self.job_id, status="training", epoch=epoch)
        self.party.audit(self.job_id, "training_started", {"from_epoch": epoch})
        return {"epoch": epoch}, []

    def _apply(self, masked_sums: list[float] | None) -> None:
        if masked_sums is None:
            return
        if self.pending is None:
            raise ProtocolViolation(detail="没有待更新的批次 / no batch awaits an update")
        _, _, mask_sums = self.pending
        gradient = np.asarray(masked_sums) - mask_sums + self.spec["l2"] * self.weights
        self.weights = self.weights - self.spec["learning_rate"] * gradient
        self.pending = None

    def on_forward(self, message: Message) -> tuple[dict[str, Any], list[bytes]]:
        """Answer the encrypted partial residual at once, and start this side's gradient pieces on [[e]]_G in the
        background: they are computed while the guest computes its own (the two processes overlap)."""
        self._apply(message.fields.get("masked_sums"))
        positions = np.asarray(message.fields["rows"], dtype=np.int64)
        self.batch_rows = self.train_rows[positions]
        features = self.data.features[self.batch_rows]
        partial = TAYLOR_SLOPE * (features @ self.weights)
        answer = self.cipher.encrypt(self.context, partial)
        self.pieces = _BACKGROUND.submit(
            self.cipher.masked_column_products, self.guest_context, message.blobs, partial, features, self.rng
        )
        return {}, answer

    def on_exchange(self, message: Message) -> tuple[dict[str, Any], list[bytes]]:
        if self.pieces is None or self.batch_rows is None:
            raise ProtocolViolation(detail="先发 forward / forward must come first")
        if len(message.blobs) != self.guest_columns:  # decrypt no more sums than the guest's signed width
            raise ProtocolViolation(
                detail=f"乘积密文数（{len(message.blobs)}）与对方签署的列数（{self.guest_columns}）不符，拒绝解密 / "
                f"{len(message.blobs)} products where the guest signed {self.guest_columns}: not decrypted"
            )
        guest_sums = self.cipher.decrypt_sums(self.context, message.blobs, len(self.batch_rows))
        blobs, mask_sums = self.pieces.result()
        self.pieces = None
        self.pending = (int(message.fields["epoch"]), int(message.fields["batch"]), mask_sums)
        return {"masked_sums": guest_sums.tolist()}, blobs

    def on_checkpoint(self, message: Message) -> tuple[dict[str, Any], list[bytes]]:
        self._apply(message.fields.get("masked_sums"))
        epoch = int(message.fields["epoch"])
        path = self.party.job_dir(self.job_id) / "checkpoints" / f"epoch-{epoch}.json"
        path.write_text(json.dumps({"epoch": epoch, "weights": self.weights.tolist()}))
        self.party.save_state(self.job_id, status="training", epoch=epoch)
        self.party.audit(self.job_id, "epoch_done", {"epoch": epoch})
        return {"epoch": epoch}, []

    def on_score(self, message: Message) -> tuple[dict[str, Any], list[bytes]]:
        """The host's partial logits of the validation rows: the one plaintext output of training (see docs)."""
        partial = self.data.features[self.valid_rows] @ self.weights
        points = card_points(self.data.features[self.valid_rows], self._card()["table"])
        return {"partial": partial.tolist(), "points": points.tolist()}, []

    def _card(self) -> dict[str, Any]:
        train = self.data.features[self.train_rows]
        table = []
        for j in range(train.shape[1]):
            edges = quantile_edges(train[:, j], self.spec["bins"])
            table.append((edges, bin_points(train[:, j], edges, float(self.weights[j]), Scale())))
        return {"features": self.data.feature_names, "table": table, "weights": self.weights.tolist()}

    def on_score_rows(self, message: Message) -> tuple[dict[str, Any], list[bytes]]:
        """Joint scoring: the host's points of the asked rows under its half of the job's registered model."""
        entry = for_job(self.party, self.job_id)
        ids = [str(i) for i in message.fields["ids"]]
        if len(ids) > MAX_SCORED_ROWS:
            raise InvalidInput(
                detail=f"一次最多 {MAX_SCORED_ROWS} 行 / at most {MAX_SCORED_ROWS} rows a request"
            )
        position = {row_id: i for i, row_id in enumerate(self.data.ids)}
        known = [i for i in ids if i in position]
        rows = np.array([position[i] for i in known], dtype=np.int64)
        points = card_points(self.data.features[rows], entry["card"]["table"]) if known else np.zeros(0)
        missing = [i for i in ids if i not in position]
        self.party.audit(self.job_id, "rows_scored", {"rows": len(known), "missing": len(missing)})
        return {"ids": known, "points": points.tolist(), "missing": missing}, []

    def on_finish(self, message: Message) -> tuple[dict[str, Any], list[bytes]]:
        metrics = message.fields["metrics"]
        if self.spec["psi"] == "size":
            self.party.save_state(self.job_id, status="done", metrics=metrics)
            self.party.audit(self.job_id, "overlap_reported", metrics)
            return {}, []
        version = int(message.fields["version"])
        entry = register(self.party, self.spec, self._card(), metrics, self.data, version)
        self.party.save_state(
            self.job_id, status="done", metrics=metrics, model=entry["model"], version=entry["version"]
        )
        self.party.audit(
            self.job_id, "model_registered", {"model": entry["model"], "version": entry["version"]}
        )
        return {"version": entry["version"]}, []
