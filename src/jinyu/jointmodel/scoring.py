"""Joint scoring with a registered scorecard: the guest adds its own points to the host's, row by row.

Neither side pools data: the guest sends the ids to score (its customers, already known to be shared by the
job's alignment), the host answers its points for the ids it holds; ids either side lacks are reported, not
dropped. score = offset − factor·intercept + guest points + host points; pd = 1 / (1 + exp((score − offset)/factor)).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from jinyu.jointmodel import jobs, rules
from jinyu.jointmodel.party import PartyDir
from jinyu.jointmodel.registry import find
from jinyu.jointmodel.transport import Channel


def score(
    party: PartyDir,
    model: str,
    version: int | None,
    ids: list[str],
    host_url: str,
    ca_file: Path | None = None,
) -> dict[str, Any]:
    entry = find(party, model, version)
    spec, _ = jobs.accepted_spec(party, entry["job_id"])
    data = party.load_data()
    position = {row_id: i for i, row_id in enumerate(data.ids)}
    unscored = [
        {"id": i, "reason": "guest 无此行 / not in the guest's data"} for i in ids if i not in position
    ]
    known = [i for i in ids if i in position]
    channel = Channel(party, entry["job_id"], spec["host"], host_url, ca_file)
    answer = channel.call("score-rows", {"ids": known}) if known else None
    host_points = dict(zip(answer.fields["ids"], answer.fields["points"], strict=True)) if answer else {}
    unscored += [
        {"id": i, "reason": "host 无此行 / not in the host's data"} for i in known if i not in host_points
    ]
    scored_ids = [i for i in known if i in host_points]
    scale = rules.Scale()
    card = entry["card"]
    own: Any = (
        rules.card_points(data.features[[position[i] for i in scored_ids]], card["table"])
        if scored_ids
        else []
    )
    base = scale.offset - scale.factor * float(card["intercept"])
    rows = []
    for row_id, guest_points in zip(scored_ids, np.asarray(own).tolist(), strict=True):
        total = base + guest_points + host_points[row_id]
        pd = 1 / (1 + math.exp(max(-700.0, min(700.0, (total - scale.offset) / scale.factor))))
        rows.append({"id": row_id, "score": round(total, 2), "pd": round(pd, 6)})
    party.audit(entry["job_id"], "rows_scored", {"rows": len(rows), "unscored": len(unscored)})
    return {"model": entry["model"], "version": entry["version"], "scores": rows, "unscored": unscored}
