"""Request and response schemas of the certificates API: the public verification record, the
published lists, and the office's status changes."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from ninja import Schema
from pydantic import Field

from haopin.evaluation.schemas import BatchRef, BrandRef, EnterpriseRef
from haopin.registry.schemas import CodeName, Page, PageQuery
from haopin.standards.schemas import Body

CertificateStatus = Literal["valid", "suspended", "revoked", "withdrawn", "expired"]


class HolderOut(Schema):
    name: str
    uscc: str = Field(description="统一社会信用代码")


class PublicBrandOut(Schema):
    name: str
    brand_type: CodeName


class HistoryOut(Schema):
    at: dt.datetime
    from_status: str
    to_status: str
    to_label: str
    reason: str


class CertificatePublicOut(Schema):
    number: str = Field(description="证书编号（含校验位）")
    status: str = Field(description="valid、suspended、revoked、withdrawn、expired")
    status_label: str
    status_reason: str
    holder: HolderOut
    brand: PublicBrandOut
    scope: str = Field(description="证书范围（品牌、产品/服务、标识使用授权）")
    products: list[str]
    logo_licence: bool = Field(description="授权使用“好品山东”标识")
    issued_on: dt.date
    valid_from: dt.date
    valid_until: dt.date
    batch: str
    history: list[HistoryOut]
    verify_url: str = Field(description="公开核验页面（证书二维码指向此地址）")


class CertificateOut(Schema):
    uuid: uuid.UUID
    number: str
    status: str
    status_label: str
    status_reason: str
    brand: BrandRef
    enterprise: EnterpriseRef
    batch: BatchRef
    issued_on: dt.date
    valid_from: dt.date
    valid_until: dt.date


class CertificateFilters(PageQuery):
    status: CertificateStatus | None = None
    batch: uuid.UUID | None = None
    brand: uuid.UUID | None = None
    q: str | None = Field(None, max_length=100, description="搜索证书编号、品牌或持证主体名称")


class CertificatePage(Page):
    items: list[CertificateOut]


class CertificateMoveIn(Body):
    reason: str = Field(min_length=1, max_length=300, description="原因（公开显示在证书状态记录中）")
    expected_status: CertificateStatus | None = Field(
        None, description="您看到的状态；如已被他人处理则返回 409，不做任何修改"
    )


class PublishedBatchOut(Schema):
    batch: BatchRef
    published_at: dt.datetime | None
    brands: int = Field(description="入选品牌数")


class PublishedPage(Page):
    items: list[PublishedBatchOut]


class AdmittedBrandOut(Schema):
    certificate: str = Field(description="证书编号")
    certificate_status: str
    brand: str
    brand_type: CodeName
    enterprise: str
    uscc: str
    category: CodeName
    region: CodeName


class PublishedListOut(Schema):
    batch: BatchRef
    published_at: dt.datetime | None
    brands: list[AdmittedBrandOut]
