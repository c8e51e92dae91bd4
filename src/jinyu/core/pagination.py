"""Offset pagination shared by list endpoints: `Limit` and `Offset` are the bounded query parameters of every
list endpoint (an unbounded offset overflows the databases' 64-bit integers: 500 instead of 422)."""

from __future__ import annotations

from typing import Annotated, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel, Field

T = TypeVar("T")

MAX_LIMIT = 500
MAX_OFFSET = 1_000_000_000  # far past any page a person or a job reads; far below 2^63

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"每页条数，≤{MAX_LIMIT} / page size")]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description=f"跳过的条数，≤{MAX_OFFSET} / rows to skip")]


class PageParams(BaseModel):
    limit: int = Field(default=50, ge=1, le=MAX_LIMIT)
    offset: int = Field(default=0, ge=0, le=MAX_OFFSET)


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int
