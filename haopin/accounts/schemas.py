from __future__ import annotations

import datetime as dt
import uuid

from ninja import Schema
from pydantic import Field


class TokenIn(Schema):
    username: str = Field(max_length=150)
    password: str = Field(max_length=128)
    name: str | None = Field(default=None, max_length=60, description="令牌名称，默认 api-<用户名>")
    days: int | None = Field(default=365, ge=1, le=3650, description="有效期（天）")


class TokenOut(Schema):
    token: str
    name: str
    expires_at: dt.datetime | None


class OrganisationBrief(Schema):
    uuid: uuid.UUID
    name: str
    kind: str
    status: str
    region: str | None


class MeOut(Schema):
    username: str
    full_name: str
    organisation: OrganisationBrief | None
    roles: list[str]
    scope: str
    can_write: bool
