"""Request and response schemas of the standards API (the catalogue and the rule sets), and the
base classes the evaluation and certificates APIs share with it.

As in the registry API: reference data by public code (category ``201``, brand type
``product``), objects by uuid or by their own public code (a standard by its number, a rule-set
item by its code within the rule set), dates ISO 8601. Scores and thresholds are JSON numbers
on the way out; on the way in a number or a decimal string is accepted (``"12.5"``), and the
services check the number of decimals.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Annotated, Literal

from ninja import Path, Schema
from pydantic import ConfigDict, Field, ValidationInfo, field_validator

from haopin.registry.schemas import CATEGORY_CODE, SLUG, CodeName, Page, PageQuery, check_text, keep

# Fields whose text may span lines (opinions, guidance, notes, …); any other text field is one line.
MULTILINE = {
    "answer",
    "body",
    "comment",
    "content",
    "description",
    "guidance",
    "note",
    "opinion",
    "reason",
    "resolution",
    "summary",
}
ITEM_CODE = r"^[0-9A-Za-z._-]{1,10}$"
PUBLIC_NUMBER = r"^[0-9A-Za-z -]{4,24}$"
ACTION = r"^[a-z_]{1,30}$"
UNLIMITED_SCORE = Decimal("1000")

RuleSetStatus = Literal["draft", "published", "retired"]
StandardLevel = Literal["national", "industry", "local", "group", "enterprise"]
StandardStatus = Literal["current", "superseded", "withdrawn"]
# "" is a manual criterion (a reviewer decides it); a metric makes it automatic.
Metric = Literal[
    "",
    "years_registered",
    "revenue",
    "rd_ratio",
    "national_rank",
    "provincial_rank",
    "credit_clean",
    "inspection_clean",
]
Operator = Literal["", "ge", "gt", "le", "lt", "true"]

# Path parameters. A public number is checked for its check character by the endpoint (a typo is
# a 422 that says so); the pattern only keeps out what cannot be a number at all.
PublicNumber = Annotated[
    str, Path(pattern=PUBLIC_NUMBER, description="公开编号（含校验位），如 SQ2025000001K、HP2025000001X")
]
ItemCode = Annotated[str, Path(pattern=ITEM_CODE, description="条目在本细则内的编号，如 1.2、F1、Z3")]
ActionName = Annotated[str, Path(pattern=ACTION, description="操作名")]
StandardCode = Annotated[str, Path(min_length=1, max_length=60, description="标准编号，如 GB/T 19001-2016")]


class Body(Schema):
    """Base of request bodies: unknown fields are an error; text is checked (see ``check_text``)."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*")
    @classmethod
    def _clean_text(cls, value: object, info: ValidationInfo) -> object:
        multiline = info.field_name in MULTILINE
        if isinstance(value, str):
            return check_text(value, multiline=multiline)
        if isinstance(value, list):
            for item in value:
                if isinstance(item, str):
                    check_text(item)
        return value


class ActionOut(Schema):
    action: str = Field(description="操作名，用于 POST …/actions/{action}")
    label: str
    needs: list[str] = Field(description="执行时必须填写的字段：opinion、deadline、reason 等")
    style: str = Field(description="danger 表示否决性操作")


# --- the catalogue --------------------------------------------------------------------------------


class StandardOut(Schema):
    uuid: uuid.UUID
    code: str = Field(description="标准编号，如 GB/T 19001-2016、T/SDAQI 001")
    title: str
    title_en: str
    level: str = Field(description="national、industry、local、group、enterprise")
    level_label: str
    status: str = Field(description="current、superseded、withdrawn")
    status_label: str
    issuer: str
    published_on: dt.date | None
    effective_on: dt.date | None
    withdrawn_on: dt.date | None
    replaced_by: str | None = Field(description="代替标准的编号")
    categories: list[CodeName]
    is_haopin: bool = Field(description="“好品山东”团体标准")
    has_file: bool
    created_at: dt.datetime
    updated_at: dt.datetime


class StandardFilters(PageQuery):
    level: StandardLevel | None = None
    status: StandardStatus | None = None
    category: str | None = Field(None, pattern=CATEGORY_CODE, description="适用类别代码，含下级类别")
    haopin: bool | None = Field(None, description="只看（true）或排除（false）好品山东团体标准")
    q: str | None = Field(None, max_length=100, description="搜索标准编号或名称")


class StandardCreate(Body):
    code: str = Field(min_length=1, max_length=40)
    title: str = Field(min_length=1, max_length=200)
    title_en: str = Field("", max_length=300)
    level: StandardLevel | None = Field(
        None, description="默认按编号判断：GB 国家、DB 地方、T/ 团体、Q/ 企业"
    )
    status: StandardStatus = "current"
    issuer: str = Field("", max_length=100)
    published_on: dt.date | None = None
    effective_on: dt.date | None = None
    withdrawn_on: dt.date | None = None
    replaced_by: str | None = Field(None, max_length=40, description="代替标准的编号（须已在目录中）")
    categories: list[str] = Field(default_factory=list, max_length=50, description="适用类别代码")
    is_haopin: bool = False


class StandardPatch(Body):
    title: str = keep(min_length=1, max_length=200)
    title_en: str = keep(max_length=300)
    level: StandardLevel = keep()
    status: StandardStatus = keep()
    issuer: str = keep(max_length=100)
    published_on: dt.date | None = None
    effective_on: dt.date | None = None
    withdrawn_on: dt.date | None = None
    replaced_by: str | None = Field(None, max_length=40)
    categories: list[str] = keep(max_length=50)
    is_haopin: bool = keep()


class StandardPage(Page):
    items: list[StandardOut]


# --- rule sets ------------------------------------------------------------------------------------


class RuleSetRef(Schema):
    uuid: uuid.UUID
    title: str
    version: int
    status: str


class RuleSetOut(Schema):
    uuid: uuid.UUID
    title: str
    category: CodeName = Field(description="适用的二级类别")
    brand_type: CodeName
    version: int
    status: str = Field(description="draft、published、retired")
    status_label: str
    pass_line: float = Field(description="合格分数线（满分 100）")
    note: str
    based_on: RuleSetRef | None = Field(description="由哪一版本复制而来")
    published_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime


class IndicatorLeafOut(Schema):
    code: str
    name: str
    max_score: float
    guidance: str
    position: int


class IndicatorOut(IndicatorLeafOut):
    children: list[IndicatorLeafOut] = Field(description="二级指标")


class VetoItemOut(Schema):
    code: str
    text: str
    position: int


class CriterionOut(Schema):
    code: str
    text: str
    automatic: bool = Field(description="true：按申报数据自动判定；false：由审查人员判定")
    metric: str
    metric_label: str
    operator: str
    operator_label: str
    threshold: float | None
    group: str = Field(description="同组条件满足其一即可")
    position: int


class RuleSetDetail(RuleSetOut):
    editable: bool = Field(description="草稿可修改；已发布或停用的细则不可修改")
    problems: list[str] = Field(description="草稿尚不能发布的原因（为空即可发布）")
    indicators: list[IndicatorOut] = Field(description="一级指标及其二级指标")
    veto_items: list[VetoItemOut]
    criteria: list[CriterionOut]


class RuleSetFilters(PageQuery):
    category: str | None = Field(None, pattern=CATEGORY_CODE, description="类别代码，含下级")
    brand_type: str | None = Field(None, pattern=SLUG)
    status: RuleSetStatus | None = None


class RuleSetCreate(Body):
    category: str = Field(pattern=CATEGORY_CODE, description="二级类别代码，如 201")
    brand_type: str = Field(pattern=SLUG, description="品牌类型代码，如 product")
    title: str = Field(min_length=1, max_length=120)
    pass_line: Decimal = Field(Decimal("80"), ge=0, le=100, allow_inf_nan=False)
    note: str = Field("", max_length=5000)
    template: Literal["empty", "default"] = Field(
        "empty", description="default：预置六个维度的示范指标、否决项和资格条件，可再修改"
    )


class RuleSetPatch(Body):
    title: str = keep(min_length=1, max_length=120)
    pass_line: Decimal = keep(ge=0, le=100, allow_inf_nan=False)
    note: str = keep(max_length=5000)


class RuleSetPage(Page):
    items: list[RuleSetOut]


class IndicatorIn(Body):
    code: str = Field(pattern=ITEM_CODE, description="编号，如 1 或 1.2")
    name: str = Field(min_length=1, max_length=100)
    max_score: Decimal = Field(gt=0, le=UNLIMITED_SCORE, allow_inf_nan=False)
    parent: str | None = Field(None, pattern=ITEM_CODE, description="上级（一级）指标的编号；一级指标不填")
    guidance: str = Field("", max_length=5000)
    position: int = Field(0, ge=0, le=30000)


class IndicatorPatch(Body):
    code: str = keep(pattern=ITEM_CODE)
    name: str = keep(min_length=1, max_length=100)
    max_score: Decimal = keep(gt=0, le=UNLIMITED_SCORE, allow_inf_nan=False)
    guidance: str = keep(max_length=5000)
    position: int = keep(ge=0, le=30000)


class VetoItemIn(Body):
    code: str = Field(pattern=ITEM_CODE)
    text: str = Field(min_length=1, max_length=300)
    position: int = Field(0, ge=0, le=30000)


class VetoItemPatch(Body):
    code: str = keep(pattern=ITEM_CODE)
    text: str = keep(min_length=1, max_length=300)
    position: int = keep(ge=0, le=30000)


class CriterionIn(Body):
    code: str = Field(pattern=ITEM_CODE)
    text: str = Field(min_length=1, max_length=300)
    metric: Metric = Field("", description="自动判定指标；留空由审查人员判定")
    operator: Operator = ""
    threshold: Decimal | None = Field(None, ge=-(10**12), le=10**12, allow_inf_nan=False)
    group: str = Field("", max_length=10, description="同组条件满足其一即可")
    position: int = Field(0, ge=0, le=30000)


class CriterionPatch(Body):
    code: str = keep(pattern=ITEM_CODE)
    text: str = keep(min_length=1, max_length=300)
    metric: Metric = keep()
    operator: Operator = keep()
    threshold: Decimal | None = Field(None, ge=-(10**12), le=10**12, allow_inf_nan=False)
    group: str = keep(max_length=10)
    position: int = keep(ge=0, le=30000)
