"""Same seed and scale give byte-identical files; another seed gives another region."""

from __future__ import annotations

from pathlib import Path

from jinyu.synth import Manifest, generate
from tests.synth.conftest import SEED


def _digests(manifest: Manifest) -> dict[str, str]:
    return {f.path: f.sha256 for ds in manifest.datasets.values() for f in ds.files}


def test_same_seed_same_bytes(region_dir: Path, manifest: Manifest, tmp_path: Path) -> None:
    again = generate(tmp_path / "again", "small", SEED, progress=False)
    assert _digests(again) == _digests(manifest)
    assert (tmp_path / "again" / "manifest.json").read_bytes() == (region_dir / "manifest.json").read_bytes()


def test_other_seed_other_bytes(manifest: Manifest, tmp_path: Path) -> None:
    other = _digests(generate(tmp_path / "other", "small", SEED + 1, progress=False))
    same = {path for path, digest in _digests(manifest).items() if other.get(path) == digest}
    assert not same
