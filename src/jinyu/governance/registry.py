"""The registry of data providers (shipped `providers.yaml`): who provides which dataset."""

from __future__ import annotations

from functools import cache
from importlib import resources

import yaml
from pydantic import BaseModel, ConfigDict

from jinyu.governance.contracts import CONTRACTS


class Provider(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str
    kind: str
    name: str
    datasets: list[str]
    per_row: bool = False  # rows name their organisation (a bank's or hospital's code): attributed row by row


@cache
def providers() -> tuple[Provider, ...]:
    text = resources.files("jinyu.governance").joinpath("providers.yaml").read_text(encoding="utf-8")
    return tuple(Provider.model_validate(p) for p in yaml.safe_load(text)["providers"])


def provider_of(dataset: str) -> Provider:
    """The registered provider of a dataset (every contract has exactly one; a test holds the file to it)."""
    for provider in providers():
        if dataset in provider.datasets:
            return provider
    raise KeyError(dataset)


def unregistered() -> list[str]:
    """Datasets with a contract but no provider, or providers naming a dataset without a contract."""
    named = [d for p in providers() for d in p.datasets]
    return sorted((set(CONTRACTS) ^ set(named)) | {d for d in named if named.count(d) > 1})
