"""manifest.json: what a generated region contains, and how to check that its files are intact."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinyu.synth.writers import FileRecord

MANIFEST_NAME = "manifest.json"


@dataclass(frozen=True)
class DatasetFiles:
    name: str
    format: str  # csv / parquet
    files: tuple[FileRecord, ...]

    @property
    def rows(self) -> int:
        return sum(f.rows for f in self.files)


@dataclass(frozen=True)
class Manifest:
    scale: str
    seed: int
    generator_version: str
    reference_date: str  # ISO date the region is "as of"; the last day of the window
    first_period: str  # YYYY-MM
    last_period: str
    datasets: dict[str, DatasetFiles]

    def to_dict(self) -> dict[str, Any]:
        return {
            "generator": "jinyu.synth",
            "generator_version": self.generator_version,
            "scale": self.scale,
            "seed": self.seed,
            "reference_date": self.reference_date,
            "period": {"first": self.first_period, "last": self.last_period},
            "datasets": {
                name: {
                    "format": ds.format,
                    "rows": ds.rows,
                    "files": [
                        {"path": f.path, "rows": f.rows, "sha256": f.sha256, "bytes": f.size}
                        for f in ds.files
                    ],
                }
                for name, ds in self.datasets.items()
            },
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2) + "\n"

    def write(self, out: Path) -> Path:
        path = out / MANIFEST_NAME
        path.write_text(self.to_json(), encoding="utf-8")
        return path

    @classmethod
    def read(cls, out: Path) -> Manifest:
        data = json.loads((out / MANIFEST_NAME).read_text(encoding="utf-8"))
        datasets = {
            name: DatasetFiles(
                name,
                ds["format"],
                tuple(FileRecord(f["path"], f["rows"], f["sha256"], f["bytes"]) for f in ds["files"]),
            )
            for name, ds in data["datasets"].items()
        }
        return cls(
            data["scale"],
            data["seed"],
            data["generator_version"],
            data["reference_date"],
            data["period"]["first"],
            data["period"]["last"],
            datasets,
        )
