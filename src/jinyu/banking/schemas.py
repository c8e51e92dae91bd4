"""Bank account views."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel


class AccountOut(BaseModel):
    account_no: str
    bank_code: str
    owner_type: str
    owner_id: str
    owner_name: str
    category: str
    opened_on: dt.date
    currency: str
