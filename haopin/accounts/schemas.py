"""Request and response schemas of the accounts API."""

from __future__ import annotations

import datetime as dt
import uuid

from ninja import Schema
from pydantic import ConfigDict, Field, field_validator

from haopin.registry.schemas import check_text


class TokenIn(Schema):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=150)
    password: str = Field(min_length=1, max_length=128)
    name: str | None = Field(default=None, max_length=60, description="令牌名称，默认 api-<时间>-<随机后缀>")
    days: int | None = Field(default=365, ge=1, le=3650, description="有效期（天）；null 表示永不过期")

    @field_validator("username", "password", "name")
    @classmethod
    def _text(cls, value: str | None) -> str | None:
        return None if value is None else check_text(value)


class TokenOut(Schema):
    token: str = Field(description="只显示这一次；请妥善保存")
    name: str
    expires_at: dt.datetime | None


class OrganisationBrief(Schema):
    uuid: uuid.UUID
    name: str
    kind: str
    status: str
    region: str | None = Field(description="GB/T 2260 区划代码")


class MeOut(Schema):
    username: str
    full_name: str
    organisation: OrganisationBrief | None
    roles: list[str] = Field(description="platform_admin、manager、staff、readonly、expert")
    scope: str = Field(description="all、region、department、organisation 或 none")
    can_write: bool
