"""Field types shared by the claim domain's models: amounts in yuan with fen, codes, resident IDs, message ids."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import Field, SecretStr

Amount = Annotated[Decimal, Field(ge=0, max_digits=16, decimal_places=2)]
Code = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")]
# A resident ID number is 18 characters; room for stray spaces, never megabytes.
CertNo = Annotated[SecretStr, Field(min_length=1, max_length=32)]
MsgId = Annotated[
    str, Field(min_length=1, max_length=64, description="报文号，幂等键 / message id, the idempotency key")
]
