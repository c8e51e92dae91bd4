"""Deterministic synthetic-region generator: a whole region in the documented ingestion formats.

    from jinyu.synth import generate
    manifest = generate(Path("./region"), scale="small", seed=7)

Same seed and scale give byte-identical files. See docs/synthetic-region.md.
"""

from jinyu.synth.generator import GENERATOR_VERSION, PARTS, generate
from jinyu.synth.manifest import DatasetFiles, Manifest
from jinyu.synth.scales import SCALES, Scale, get_scale

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
