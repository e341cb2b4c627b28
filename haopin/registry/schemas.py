"""Request and response schemas of the registry API.

Reference data is named by its public codes (region ``370102``, category ``20101``, brand type
``product``, tier ``pool``, programme ``agi``); objects by their uuid; dates are ISO 8601.

Input schemas forbid unknown fields (a typo must not be silently ignored). In PATCH schemas a
field that may not be empty is declared with its plain type and a default of None that is
never validated: leaving it out keeps the value, sending ``null`` is a 422.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
import uuid
from typing import Annotated, Any, Literal

from ninja import Schema
from pydantic import ConfigDict, Field, ValidationInfo, field_validator

REGION_CODE = r"^[0-9]{6}$"
CATEGORY_CODE = r"^[0-9]{1,10}$"
SLUG = r"^[a-z0-9_-]{1,20}$"

BrandStatus = Literal["active", "suspended", "revoked", "exited"]
ProductKind = Literal["goods", "service", "engineering"]
EnterpriseSize = Literal["large", "medium", "small", "micro", ""]
Trademark = Annotated[str, Field(max_length=20)]
StandardCode = Annotated[str, Field(max_length=60)]

MULTILINE_FIELDS = {"description", "description_en", "address"}


def check_text(value: str, *, multiline: bool = False) -> str:
    """Reject text that no database stores faithfully or no person typed: NUL (PostgreSQL
    refuses it), lone surrogates (not encodable as UTF-8) and other control characters."""
    for ch in value:
        if ch == "\t" or (multiline and ch in "\r\n"):
            continue
        if ch == "\x00" or 0xD800 <= ord(ch) <= 0xDFFF or unicodedata.category(ch) in {"Cc", "Cs"}:
            raise ValueError("包含不允许的控制字符。")
    return value


def keep(**constraints: Any) -> Any:
    """A PATCH field whose type does not admit null: left out, the stored value is kept.

    The default is not validated, so leaving the field out passes; sending ``null`` fails the
    type check. Typed ``Any`` because the default (None) is deliberately not of the field's type.
    """
    return Field(None, json_schema_extra=_no_default, **constraints)


def _no_default(schema: dict[str, Any]) -> None:
    # "default": null would tell clients that null is a value they may send.
    schema.pop("default", None)


class In(Schema):
    """Base of request bodies: unknown fields are an error; text is checked."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*")
    @classmethod
    def _clean_text(cls, value: object, info: ValidationInfo) -> object:
        multiline = info.field_name in MULTILINE_FIELDS
        if isinstance(value, str):
            return check_text(value, multiline=multiline)
        if isinstance(value, list):
            for item in value:
                if isinstance(item, str):
                    check_text(item)
        return value


class Query(Schema):
    """Base of query strings: unknown parameters are ignored (cache busters), text is checked."""

    @field_validator("*")
    @classmethod
    def _clean_text(cls, value: object) -> object:
        if isinstance(value, str):
            return check_text(value)
        return value


class PageQuery(Query):
    limit: int = Field(50, ge=1, le=500, description="每页条数（1～500）")
    offset: int = Field(0, ge=0, le=1_000_000_000, description="跳过的条数")


# --- references -------------------------------------------------------------------------------


class CodeName(Schema):
    code: str
    name: str


class EnterpriseRef(Schema):
    uuid: uuid.UUID
    name: str
    uscc: str


class BrandRef(Schema):
    uuid: uuid.UUID
    name: str


# --- enterprises ------------------------------------------------------------------------------


class EnterpriseOut(Schema):
    uuid: uuid.UUID
    uscc: str = Field(description="统一社会信用代码（GB 32100）")
    name: str
    region: CodeName = Field(description="所在县（市、区）")
    city: CodeName | None = Field(description="所在市")
    legal_representative: str
    address: str
    founded_on: dt.date | None
    industry_code: str = Field(description="GB/T 4754-2017 行业代码，如 C1511")
    size: str
    contact_name: str
    contact_phone: str
    contact_email: str
    created_at: dt.datetime
    updated_at: dt.datetime


class EnterpriseFilters(PageQuery):
    region: str | None = Field(None, pattern=REGION_CODE, description="市或县区划代码，含下级")
    q: str | None = Field(None, max_length=100, description="搜索企业名称或统一社会信用代码")
    size: EnterpriseSize | None = None
    industry: str | None = Field(None, max_length=5, description="行业代码前缀，如 C15")


class EnterpriseCreate(In):
    uscc: str = Field(min_length=1, max_length=30, description="统一社会信用代码（18 位，含校验位）")
    name: str = Field(min_length=1, max_length=100)
    region: str = Field(pattern=REGION_CODE, description="所在县（市、区）的区划代码")
    legal_representative: str = Field("", max_length=50)
    address: str = Field("", max_length=200)
    founded_on: dt.date | None = None
    industry_code: str = Field("", max_length=5)
    size: EnterpriseSize = ""
    contact_name: str = Field("", max_length=50)
    contact_phone: str = Field("", max_length=20)
    contact_email: str = Field("", max_length=254)


class EnterprisePatch(In):
    name: str = keep(min_length=1, max_length=100)
    region: str = keep(pattern=REGION_CODE)
    legal_representative: str = keep(max_length=50)
    address: str = keep(max_length=200)
    founded_on: dt.date | None = None
    industry_code: str = keep(max_length=5)
    size: EnterpriseSize = keep()
    contact_name: str = keep(max_length=50)
    contact_phone: str = keep(max_length=20)
    contact_email: str = keep(max_length=254)


# --- brands -----------------------------------------------------------------------------------


class SourceOut(Schema):
    programme: str = Field(description="来源项目代码，如 agi")
    programme_name: str
    certificate_number: str
    year: int | None
    document: uuid.UUID | None


class SourceIn(In):
    certificate_number: str = Field("", max_length=60)
    year: int | None = Field(None, ge=1950, le=2100)
    document: uuid.UUID | None = Field(None, description="证明文件的 uuid（本企业上传的文件）")


class SourceCreate(SourceIn):
    programme: str = Field(pattern=SLUG)


class BrandOut(Schema):
    uuid: uuid.UUID
    name: str
    name_en: str
    owner: EnterpriseRef
    brand_type: str = Field(description="product、enterprise、industry、regional、gi")
    category: CodeName
    region: CodeName
    tier: str = Field(description="pool、member、benchmark")
    status: str
    trademark_numbers: list[str]
    description: str
    description_en: str
    sources: list[SourceOut]
    created_at: dt.datetime
    updated_at: dt.datetime


class BrandFilters(PageQuery):
    region: str | None = Field(None, pattern=REGION_CODE, description="区划代码（省、市或县），含下级")
    category: str | None = Field(None, pattern=CATEGORY_CODE, description="类别代码，含下级")
    type: str | None = Field(None, pattern=SLUG, description="品牌类型代码")
    tier: str | None = Field(None, pattern=SLUG, description="品牌层级代码")
    programme: str | None = Field(None, pattern=SLUG, description="存量品牌来源代码")
    status: BrandStatus | None = None
    owner: uuid.UUID | None = Field(None, description="品牌主体（企业）的 uuid")
    q: str | None = Field(None, max_length=100, description="搜索品牌名称、英文名称或品牌主体名称")


class BrandCreate(In):
    owner: uuid.UUID = Field(description="品牌主体（企业）的 uuid")
    name: str = Field(min_length=1, max_length=100)
    name_en: str = Field("", max_length=150)
    brand_type: str = Field(pattern=SLUG)
    category: str = Field(pattern=CATEGORY_CODE)
    region: str | None = Field(
        None, pattern=REGION_CODE, description="默认为品牌主体所在区划；区域、产业、地理标志品牌填覆盖区划"
    )
    tier: str = Field("pool", pattern=SLUG)
    trademark_numbers: list[Trademark] = Field(default_factory=list, max_length=50)
    description: str = Field("", max_length=5000)
    description_en: str = Field("", max_length=5000)
    sources: list[SourceCreate] = Field(default_factory=list, max_length=20)


class BrandPatch(In):
    name: str = keep(min_length=1, max_length=100)
    name_en: str = keep(max_length=150)
    brand_type: str = keep(pattern=SLUG)
    category: str = keep(pattern=CATEGORY_CODE)
    region: str = keep(pattern=REGION_CODE)
    tier: str = keep(pattern=SLUG)
    status: BrandStatus = keep()
    trademark_numbers: list[Trademark] = keep(max_length=50)
    description: str = keep(max_length=5000)
    description_en: str = keep(max_length=5000)


# --- products ---------------------------------------------------------------------------------


class ProductOut(Schema):
    uuid: uuid.UUID
    brand: BrandRef
    kind: str
    name: str
    specification: str
    standard_codes: list[str]
    gtin: str | None
    description: str
    created_at: dt.datetime
    updated_at: dt.datetime


class ProductFilters(PageQuery):
    brand: uuid.UUID | None = Field(None, description="品牌的 uuid")
    kind: ProductKind | None = None
    gtin: str | None = Field(None, max_length=20)
    q: str | None = Field(None, max_length=100, description="搜索名称或规格")


class ProductCreate(In):
    brand: uuid.UUID = Field(description="品牌的 uuid")
    kind: ProductKind = "goods"
    name: str = Field(min_length=1, max_length=100)
    specification: str = Field("", max_length=200)
    standard_codes: list[StandardCode] = Field(default_factory=list, max_length=50)
    gtin: str | None = Field(None, max_length=20, description="商品条码 GTIN-8/12/13/14，含校验位")
    description: str = Field("", max_length=5000)


class ProductPatch(In):
    kind: ProductKind = keep()
    name: str = keep(min_length=1, max_length=100)
    specification: str = keep(max_length=200)
    standard_codes: list[StandardCode] = keep(max_length=50)
    gtin: str | None = keep(max_length=20)
    description: str = keep(max_length=5000)


class Page(Schema):
    count: int = Field(description="符合条件的总数")
    limit: int
    offset: int


class EnterprisePage(Page):
    items: list[EnterpriseOut]


class BrandPage(Page):
    items: list[BrandOut]


class ProductPage(Page):
    items: list[ProductOut]
