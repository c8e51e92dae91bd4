"""Deterministic synthetic-region generator: a whole region in the documented ingestion formats.

    from jinyu.synth import generate
    manifest = generate(Path("./region"), scale="small", seed=7)

Same seed and scale give byte-identical files. See docs/synthetic-region.md.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from jinyu.synth.scales import SCALES, Scale, get_scale

if TYPE_CHECKING:
    from jinyu.synth.generator import GENERATOR_VERSION, PARTS, generate
    from jinyu.synth.manifest import DatasetFiles, Manifest

# The generator and manifest import Arrow: loaded on first use, so `jinyu synth --help` stays fast (issue 19).
_LAZY = {
    "GENERATOR_VERSION": "generator",
    "PARTS": "generator",
    "generate": "generator",
    "DatasetFiles": "manifest",
    "Manifest": "manifest",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f"jinyu.synth.{_LAZY[name]}"), name)
    raise AttributeError(name)


__all__ = [
    "GENERATOR_VERSION",
    "PARTS",
    "SCALES",
    "DatasetFiles",
    "Manifest",
    "Scale",
    "generate",
    "get_scale",
]
