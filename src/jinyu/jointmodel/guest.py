"""The guest's side of the protocol (a bank, holding labels and its own features); it drives the job.

Per batch: forward (the host's encrypted partial residual), exchange (each side's masked encrypted gradient
pieces, decrypted in sum by the key owner), and the host's masked sums travel with the next forward or the
epoch's checkpoint. Both sides checkpoint after every epoch, so a failed job resumes at its last whole epoch.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from jinyu.core.errors import JinyuError
from jinyu.jointmodel import he, jobs, rules
from jinyu.jointmodel.envelope import Message
from jinyu.jointmodel.errors import PartyUnreachable, ProtocolViolation
from jinyu.jointmodel.party import PartyData, PartyDir, write_quarantine
from jinyu.jointmodel.psi import PsiClient
from jinyu.jointmodel.registry import register
from jinyu.jointmodel.transport import Channel

BatchHook = Callable[[int, int], None]


@dataclass
class Aligned:
    train_ids: list[str]
    valid_ids: list[str]
    train_x: rules.Matrix
    train_y: rules.Vector
    valid_x: rules.Matrix
    valid_y: rules.Vector


def run(
    party: PartyDir,
    job_id: str,
    host_url: str,
    on_batch: BatchHook | None = None,
    ca_file: Path | None = None,
    cipher: he.GradientCipher = he.CKKS,
) -> dict[str, Any]:
    """Run (or resume) a job to its end; on any failure the job is marked failed with the reason and re-raised.
    A job already done is not run again: its state is the answer."""
    spec, acceptance = jobs.accepted_spec(party, job_id)
    if party.state(job_id).get("status") == "done":  # running a finished job again answers its result
        return party.state(job_id)
    channel = Channel(party, job_id, spec["host"], host_url, ca_file)
    try:
        return _run(party, spec, acceptance, channel, on_batch, cipher)
    except JinyuError as exc:
        party.save_state(job_id, status="failed", reason=str(exc))
        party.audit(job_id, "job_failed", {"code": exc.code, "reason": str(exc)})
        raise


def _run(
    party: PartyDir,
    spec: dict[str, Any],
    acceptance: dict[str, Any],
    channel: Channel,
    on_batch: BatchHook | None,
    cipher: he.GradientCipher,
) -> dict[str, Any]:
    job_id = spec["job_id"]
    data = party.load_data()
    jobs.check_own_columns(acceptance, data.features.shape[1])
    write_quarantine(party, job_id, data)
    context = cipher.new_secret()
    hello = channel.call("hello", {"acceptance": acceptance}, [cipher.public_bytes(context)])
    jobs.check_peer_acceptance(hello.fields["acceptance"], spec, party.peers()[spec["host"]])
    host_columns = jobs.peer_columns(hello.fields["acceptance"])
    host_context = cipher.load_public(hello.blobs[0])
    party.audit(job_id, "session_opened", {"host": spec["host"], "host_products": host_columns})
    client = PsiClient(data.ids, spec["psi"] == "intersection")
    answer = _psi(channel, client)
    if spec["psi"] == "size":
        metrics = {
            "intersection_size": client.size(answer.blobs[0], answer.blobs[1]),
            "guest_rows": len(data.ids),
        }
        channel.call("finish", {"metrics": metrics})
        party.audit(job_id, "overlap_learned", metrics)
        return party.save_state(job_id, status="done", metrics=metrics)
    ids = client.intersection(answer.blobs[0], answer.blobs[1])
    channel.call("align", {"ids": ids})
    party.audit(job_id, "aligned", {"rows": len(ids)})
    aligned = _split(data, ids, spec)
    start = int(party.state(job_id).get("epoch", 0))
    weights = _checkpoint(party, job_id, start, aligned.train_x.shape[1])
    channel.call("start", {"epoch": start})
    party.save_state(job_id, status="training", epoch=start, reason=None)
    party.audit(job_id, "training_started", {"from_epoch": start})
    timings = []
    for epoch in range(start, spec["epochs"]):
        began = time.perf_counter()
        keys = (cipher, context, host_context, host_columns)
        weights = _epoch(channel, keys, aligned, weights, spec, epoch, on_batch)
        timings.append(time.perf_counter() - began)
        _save_checkpoint(party, job_id, epoch + 1, weights)
    return _finish(party, spec, channel, aligned, weights, data, timings)


# Polling of the host's PSI answer: first after 0.5 s, the wait doubling to at most 5 s; given up after PSI_WAIT.
PSI_POLL = (0.5, 5.0)
PSI_WAIT = 3600.0


def _psi(channel: Channel, client: PsiClient) -> Message:
    """Send the PSI request, then poll (`psi-result`, each a short signed request) until the host has answered:
    no single request lasts as long as the PSI itself."""
    channel.call("psi", blobs=[client.request()])
    delay, deadline = PSI_POLL[0], time.monotonic() + PSI_WAIT
    while True:
        time.sleep(delay)
        answer = channel.call("psi-result")
        if not answer.fields.get("pending"):
            if len(answer.blobs) != 2:
                raise ProtocolViolation(detail="PSI 答复须为两个数据块 / the PSI answer is two blobs")
            return answer
        if time.monotonic() > deadline:
            raise PartyUnreachable(
                detail=f"PSI 超过 {PSI_WAIT:.0f} 秒未完成 / no PSI answer in {PSI_WAIT:.0f} s"
            )
        delay = min(delay * 2, PSI_POLL[1])


def _epoch(
    channel: Channel,
    keys: tuple[he.GradientCipher, Any, Any, int],
    aligned: Aligned,
    weights: rules.Vector,
    spec: dict[str, Any],
    epoch: int,
    on_batch: BatchHook | None,
) -> rules.Vector:
    cipher, context, host_context, host_columns = keys
    rng = np.random.default_rng()
    pending: list[float] | None = None
    batches = rules.epoch_batches(len(aligned.train_y), spec["batch_size"], epoch, spec["seed"])
    for number, rows in enumerate(batches):
        x, y = aligned.train_x[rows], aligned.train_y[rows]
        offset = rules.guest_offset(x @ weights, y)
        fields = {"epoch": epoch, "batch": number, "rows": rows.tolist(), "masked_sums": pending}
        forward = channel.call("forward", fields, cipher.encrypt(context, offset))
        blobs, mask_sums = cipher.masked_column_products(host_context, forward.blobs, offset, x, rng)
        exchange = channel.call("exchange", {"epoch": epoch, "batch": number}, blobs)
        gradient = np.asarray(exchange.fields["masked_sums"]) - mask_sums + spec["l2"] * weights
        weights = weights - spec["learning_rate"] * gradient
        if len(exchange.blobs) != host_columns:  # decrypt no more sums than the host's signed width
            raise ProtocolViolation(
                detail=f"乘积密文数（{len(exchange.blobs)}）与对方签署的列数（{host_columns}）不符，拒绝解密 / "
                f"{len(exchange.blobs)} products where the host signed {host_columns}: not decrypted"
            )
        pending = cipher.decrypt_sums(context, exchange.blobs, len(rows)).tolist()
        if on_batch:
            on_batch(epoch, number)
    channel.call("checkpoint", {"epoch": epoch + 1, "masked_sums": pending})
    return weights


def _finish(
    party: PartyDir,
    spec: dict[str, Any],
    channel: Channel,
    aligned: Aligned,
    weights: rules.Vector,
    data: PartyData,
    timings: list[float],
) -> dict[str, Any]:
    job_id = spec["job_id"]
    scored = channel.call("score")
    logit = aligned.valid_x @ weights + np.asarray(scored.fields["partial"])
    card = _card(aligned, weights, spec, data)
    scale = rules.Scale()
    points = (
        scale.offset + rules.card_points(aligned.valid_x[:, 1:], card["table"]) - scale.factor * weights[0]
    )
    points += np.asarray(scored.fields["points"])
    alone = rules.train_plain(
        aligned.train_x,
        aligned.train_y,
        epochs=spec["epochs"],
        learning_rate=spec["learning_rate"],
        l2=spec["l2"],
        batch_size=spec["batch_size"],
        seed=spec["seed"],
    )
    metrics = {
        "rows_aligned": len(aligned.train_ids) + len(aligned.valid_ids),
        "rows_train": len(aligned.train_ids),
        "rows_validation": len(aligned.valid_ids),
        "auc": round(rules.auc(logit, aligned.valid_y), 6),
        "ks": round(rules.ks_statistic(logit, aligned.valid_y), 6),
        "scorecard_auc": round(rules.auc(-points, aligned.valid_y), 6),
        "guest_alone_auc": round(rules.auc(aligned.valid_x @ alone, aligned.valid_y), 6),
    }
    version = 1 + max((e["version"] for e in _registry(party) if e["model"] == spec["model_name"]), default=0)
    reply = channel.call("finish", {"metrics": metrics, "version": version})
    entry = register(party, spec, card, metrics, data, int(reply.fields["version"]))
    party.audit(job_id, "model_registered", {"model": entry["model"], "version": entry["version"]})
    return party.save_state(
        job_id,
        status="done",
        epoch=spec["epochs"],
        metrics=metrics,
        model=entry["model"],
        version=entry["version"],
        bytes_sent=channel.bytes_sent,
        bytes_received=channel.bytes_received,
        epoch_seconds=[round(t, 4) for t in timings],
    )


def _registry(party: PartyDir) -> list[dict[str, Any]]:
    from jinyu.jointmodel.registry import entries

    return entries(party)


def _card(aligned: Aligned, weights: rules.Vector, spec: dict[str, Any], data: PartyData) -> dict[str, Any]:
    """The guest's half of the scorecard: bins and points of its own features (the intercept is in the offset)."""
    table = []
    for j in range(1, aligned.train_x.shape[1]):
        column = aligned.train_x[:, j]
        edges = rules.quantile_edges(column, spec["bins"])
        table.append((edges, rules.bin_points(column, edges, float(weights[j]), rules.Scale())))
    return {
        "features": data.feature_names,
        "table": table,
        "weights": weights.tolist(),
        "intercept": weights[0],
    }


def _split(data: PartyData, ids: list[str], spec: dict[str, Any]) -> Aligned:
    if data.labels is None:
        raise ProtocolViolation(detail="guest 必须有标签列 / the guest must hold the label column")
    position = {row_id: i for i, row_id in enumerate(data.ids)}
    valid = [i for i in ids if rules.is_validation(i, spec["seed"], spec["valid_share"])]
    train = [i for i in ids if not rules.is_validation(i, spec["seed"], spec["valid_share"])]
    x = rules.with_intercept(data.features)
    tr, va = [position[i] for i in train], [position[i] for i in valid]
    return Aligned(train, valid, x[tr], data.labels[tr], x[va], data.labels[va])


def _checkpoint(party: PartyDir, job_id: str, epoch: int, width: int) -> rules.Vector:
    if epoch == 0:
        return np.zeros(width)
    path = party.job_dir(job_id) / "checkpoints" / f"epoch-{epoch}.json"
    return np.array(json.loads(path.read_text())["weights"])


def _save_checkpoint(party: PartyDir, job_id: str, epoch: int, weights: rules.Vector) -> None:
    path = party.job_dir(job_id) / "checkpoints" / f"epoch-{epoch}.json"
    path.write_text(json.dumps({"epoch": epoch, "weights": weights.tolist()}))
    party.save_state(job_id, status="training", epoch=epoch)
    party.audit(job_id, "epoch_done", {"epoch": epoch})
