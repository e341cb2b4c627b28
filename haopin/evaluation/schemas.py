"""Request and response schemas of the evaluation API: batches, applications and their review,
the expert draw and scoring, the ranking, public notices and objections.

Applications, objections and certificates are named by their public numbers (with a check
character), batches, notices and rule sets by uuid, rule-set items by code, reference data by
code; never by a row id. Dates are ISO 8601.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any, Literal

from ninja import Schema
from pydantic import Field

from haopin.registry.schemas import CATEGORY_CODE, CodeName, Page, PageQuery, keep
from haopin.standards.schemas import ITEM_CODE, ActionOut, Body, RuleSetOut, RuleSetRef

APPLICATION_NUMBER = r"^[0-9A-Za-z -]{4,24}$"
APPLICATION_STATUSES = (
    "draft",
    "submitted",
    "recommended",
    "qualified",
    "checked",
    "expert_review",
    "reviewed",
    "consulted",
    "approved",
    "notice",
    "published",
    "returned",
    "rejected",
    "withdrawn",
)
ApplicationStatus = Literal[
    "draft",
    "submitted",
    "recommended",
    "qualified",
    "checked",
    "expert_review",
    "reviewed",
    "consulted",
    "approved",
    "notice",
    "published",
    "returned",
    "rejected",
    "withdrawn",
]
BatchStatus = Literal["draft", "open", "reviewing", "notice", "published", "closed"]
Route = Literal["voluntary", "recommended"]
Money = Decimal


# --- references -----------------------------------------------------------------------------------


class BatchRef(Schema):
    uuid: uuid.UUID
    title: str
    year: int
    sequence: int
    status: str


class BrandRef(Schema):
    uuid: uuid.UUID
    name: str


class EnterpriseRef(Schema):
    uuid: uuid.UUID
    name: str
    uscc: str


class OrganisationRef(Schema):
    uuid: uuid.UUID
    name: str


# --- batches --------------------------------------------------------------------------------------


class BatchOut(Schema):
    uuid: uuid.UUID
    year: int
    sequence: int = Field(description="第N批")
    title: str
    status: str = Field(description="draft、open、reviewing、notice、published、closed")
    status_label: str
    apply_from: dt.date
    apply_until: dt.date
    recommend_until: dt.date | None
    review_until: dt.date | None
    notice_days: int = Field(description="公示期（工作日）")
    panel_size: int
    reserve_size: int
    avoid_same_city: bool
    certificate_years: int
    description: str
    published_at: dt.datetime | None
    application_count: int
    created_at: dt.datetime
    updated_at: dt.datetime


class QuotaOut(Schema):
    kind: str = Field(description="category 或 city")
    code: str
    name: str
    limit: int


class NoticeRef(Schema):
    uuid: uuid.UUID
    title: str
    starts_on: dt.date
    ends_on: dt.date
    status: str


class BatchDetail(BatchOut):
    rule_sets: list[RuleSetOut]
    quotas: list[QuotaOut]
    notice: NoticeRef | None
    status_counts: dict[str, int] = Field(description="您可见的申报按状态计数")
    actions: list[ActionOut] = Field(description="您现在可以执行的批次操作")


class BatchFilters(PageQuery):
    year: int | None = Field(None, ge=2021, le=2100)
    status: BatchStatus | None = None


class BatchCreate(Body):
    year: int = Field(ge=2021, le=2100)
    sequence: int = Field(ge=1, le=99, description="第N批")
    title: str = Field(min_length=1, max_length=120)
    apply_from: dt.date
    apply_until: dt.date
    recommend_until: dt.date | None = None
    review_until: dt.date | None = None
    notice_days: int = Field(7, ge=1, le=30)
    panel_size: int = Field(7, ge=3, le=15)
    reserve_size: int = Field(2, ge=0, le=10)
    avoid_same_city: bool = True
    certificate_years: int = Field(3, ge=1, le=10)
    description: str = Field("", max_length=5000)


class BatchPatch(Body):
    year: int = keep(ge=2021, le=2100)
    sequence: int = keep(ge=1, le=99)
    title: str = keep(min_length=1, max_length=120)
    apply_from: dt.date = keep()
    apply_until: dt.date = keep()
    recommend_until: dt.date | None = None
    review_until: dt.date | None = None
    notice_days: int = keep(ge=1, le=30)
    panel_size: int = keep(ge=3, le=15)
    reserve_size: int = keep(ge=0, le=10)
    avoid_same_city: bool = keep()
    certificate_years: int = keep(ge=1, le=10)
    description: str = keep(max_length=5000)


class BatchPage(Page):
    items: list[BatchOut]


class RuleSetLink(Body):
    rule_set: uuid.UUID = Field(description="已发布的评价细则（二级类别）的 uuid")


class QuotaIn(Body):
    limit: int = Field(ge=1, le=100000, description="名额上限")


class DrawIn(Body):
    rule_set: uuid.UUID = Field(description="本批次采用的评价细则的 uuid")
    seed: str | None = Field(None, min_length=1, max_length=64, description="随机种子；不填则随机生成并记录")


class DrawOut(Schema):
    uuid: uuid.UUID
    rule_set: RuleSetRef
    seed: str
    panel_size: int
    reserve_size: int
    avoid_same_city: bool
    pool_digest: str
    result_digest: str
    applications: list[str] = Field(description="本次抽取涉及的申报编号")
    seats: int = Field(description="抽取的评审和备选席位数")
    shortfalls: list[dict[str, Any]] = Field(
        description="人数不足的申报（draw）或备选用尽（reserves_exhausted）"
    )
    created_by: str
    created_at: dt.datetime


class DrawCheckOut(DrawOut):
    result_matches: bool = Field(description="按记录的种子重算，结果与记录一致")
    pool_matches: bool = Field(description="专家库与抽取时一致")
    exclusions: dict[str, int] = Field(description="按回避原因排除的（申报×专家）组合数")


class SupplementIn(Body):
    seed: str | None = Field(None, min_length=1, max_length=64)


class AggregateIn(Body):
    rule_set: uuid.UUID


class AggregationOut(Schema):
    applications: int
    passed: int
    quota_ties: list[str] = Field(description="名额线同分待裁定的申报编号")
    outliers: dict[str, int] = Field(description="申报编号 → 偏离组内中位数超过 10 分的专家人数")
    cleared_decisions: list[str]
    quota_changes: list[str]


class RankingFilters(Schema):
    rule_set: uuid.UUID | None = Field(None, description="只看一套评价细则；不填为本批次全部")


class RankingRow(Schema):
    rank: int | None
    number: str
    brand: str
    enterprise: str
    city: str
    score_total: float | None
    score_spread: float | None
    passed: bool | None
    within_quota: bool | None
    quota_tie: bool
    outliers: int = Field(description="偏离组内中位数超过 10 分的专家人数")
    status: str
    status_label: str


class RankingOut(Schema):
    rule_set: RuleSetOut
    rows: list[RankingRow]


# --- applications ---------------------------------------------------------------------------------


class ApplicationOut(Schema):
    uuid: uuid.UUID
    number: str = Field(description="申报编号（含校验位）")
    batch: BatchRef
    brand: BrandRef
    enterprise: EnterpriseRef
    category: CodeName
    rule_set: RuleSetRef
    route: str = Field(description="voluntary 自愿申报、recommended 组织推荐")
    recommender: OrganisationRef | None
    status: str
    status_label: str
    submitted_at: dt.datetime | None
    return_deadline: dt.date | None
    created_at: dt.datetime
    updated_at: dt.datetime


class ProductRef(Schema):
    uuid: uuid.UUID
    name: str
    kind: str


class FigureOut(Schema):
    year: int
    revenue: float
    profit: float
    tax: float
    rd_spend: float
    export: float
    employees: int
    rd_ratio: float | None = Field(description="研发投入占营业收入比例（%）")


class SelfAssessmentOut(Schema):
    indicator: str
    name: str
    max_score: float
    score: float | None
    note: str


class EvidenceOut(Schema):
    document: uuid.UUID
    title: str
    indicator: str | None
    file_name: str
    content_type: str
    size: int
    sha256: str
    created_at: dt.datetime


class DecisionOut(Schema):
    action: str
    label: str
    from_status: str
    to_status: str
    actor: str
    organisation: str
    opinion: str
    deadline: dt.date | None
    document: uuid.UUID | None
    created_at: dt.datetime


class OutcomeOut(Schema):
    criterion: str
    text: str
    automatic: bool
    met: bool | None = Field(description="null：尚待审查人员判定")
    explanation: str


class EligibilityOut(Schema):
    verdict: bool | None
    problems: list[str]
    outcomes: list[OutcomeOut]


class VetoFindingOut(Schema):
    veto_item: str
    text: str
    status: str = Field(description="raised 待核实、confirmed 已核实、dismissed 不成立")
    note: str
    raised_by: str | None = Field(description="仅省质量强省办可见")
    resolution: str
    created_at: dt.datetime


class ResultsOut(Schema):
    score_total: float | None
    score_spread: float | None
    rank: int | None
    passed: bool | None
    within_quota: bool | None
    quota_tie: bool


class DeclarationOut(Schema):
    signed_by: str
    signed_at: dt.datetime | None


class ApplicationDetail(ApplicationOut):
    summary: str
    competitors: list[str]
    national_rank: int | None
    provincial_rank: int | None
    credit_clean: bool | None
    inspection_clean: bool | None
    declaration: DeclarationOut
    products: list[ProductRef]
    required_years: list[int] = Field(description="须填写主要经济指标的三个年度")
    figures: list[FigureOut]
    self_assessment: list[SelfAssessmentOut]
    evidence: list[EvidenceOut]
    gaps: dict[str, str] = Field(description="尚不能提交的原因（填报中或退回修改时）")
    eligibility: EligibilityOut
    decisions: list[DecisionOut]
    veto_findings: list[VetoFindingOut] | None = Field(description="省质量强省办和评审专家可见")
    results: ResultsOut | None = Field(description="评审结果，仅省质量强省办可见")
    actions: list[ActionOut] = Field(description="您现在可以执行的操作")


class ApplicationFilters(PageQuery):
    batch: uuid.UUID | None = None
    status: ApplicationStatus | None = None
    route: Route | None = None
    rule_set: uuid.UUID | None = None
    category: str | None = Field(None, pattern=CATEGORY_CODE, description="品牌类别代码，含下级")
    q: str | None = Field(None, max_length=100, description="搜索申报编号、品牌或申报主体名称")


class ApplicationPage(Page):
    items: list[ApplicationOut]


class ApplicationCreate(Body):
    batch: uuid.UUID
    brand: uuid.UUID = Field(description="本单位的品牌；推荐单位填写其推荐范围内的品牌")
    summary: str = Field("", max_length=5000, description="推荐时可填写推荐理由")


class ApplicationPatch(Body):
    summary: str = keep(max_length=5000)
    competitors: list[str] = keep(max_length=20, description="主要竞争对手的统一社会信用代码")
    national_rank: int | None = Field(None, ge=1, le=1_000_000)
    provincial_rank: int | None = Field(None, ge=1, le=1_000_000)
    credit_clean: bool | None = None
    inspection_clean: bool | None = None
    products: list[uuid.UUID] = keep(max_length=200, description="本品牌申报的产品/服务 uuid")


class FigureIn(Body):
    year: int = Field(ge=2000, le=2100)
    revenue: Money = Field(ge=0, le=10**12, allow_inf_nan=False, description="营业收入（万元）")
    profit: Money = Field(ge=-(10**12), le=10**12, allow_inf_nan=False, description="利润总额（万元）")
    tax: Money = Field(ge=0, le=10**12, allow_inf_nan=False, description="纳税额（万元）")
    rd_spend: Money = Field(ge=0, le=10**12, allow_inf_nan=False, description="研发投入（万元）")
    export: Money = Field(Decimal("0"), ge=0, le=10**12, allow_inf_nan=False, description="出口额（万元）")
    employees: int = Field(ge=0, le=10_000_000)


class FiguresIn(Body):
    figures: list[FigureIn] = Field(min_length=1, max_length=3)


class SelfAssessmentEntry(Body):
    indicator: str = Field(pattern=ITEM_CODE, description="二级指标编号")
    score: Decimal | None = Field(None, ge=0, le=1000, allow_inf_nan=False)
    note: str | None = Field(None, max_length=5000)


class SelfAssessmentIn(Body):
    items: list[SelfAssessmentEntry] = Field(min_length=1, max_length=200)


class SignIn(Body):
    name: str = Field(min_length=1, max_length=50, description="承诺人姓名")


class MoveIn(Body):
    opinion: str = Field("", max_length=5000)
    deadline: dt.date | None = Field(None, description="退回修改的整改期限")
    expected_status: ApplicationStatus | None = Field(
        None, description="您看到的状态；如已被他人处理则返回 409，不做任何修改"
    )
    document: uuid.UUID | None = Field(None, description="依据材料（可见的文件 uuid）")


class CriterionCheckIn(Body):
    met: bool
    note: str = Field("", max_length=300)


class VetoRaiseIn(Body):
    veto_item: str = Field(pattern=ITEM_CODE, description="否决项编号")
    note: str = Field(min_length=1, max_length=5000)
    document: uuid.UUID | None = None


class VetoResolveIn(Body):
    confirmed: bool = Field(description="true：核实成立；false：不成立")
    resolution: str = Field(min_length=1, max_length=5000)


class QuotaDecisionIn(Body):
    admit: bool
    reason: str = Field(min_length=1, max_length=2000)


# --- the scoring sheet (office) -----------------------------------------------------------------


class SheetExpertOut(Schema):
    name: str
    employer: str
    role: str
    status: str
    submitted: bool
    total: float | None
    outlier: bool


class SheetCellOut(Schema):
    score: float
    comment: str


class SheetRowOut(Schema):
    indicator: str
    name: str
    dimension: str
    max_score: float
    cells: list[SheetCellOut | None] = Field(description="按已提交评分的专家顺序")
    mean: float | None


class ScoringSheetOut(Schema):
    application: str
    experts: list[SheetExpertOut]
    rows: list[SheetRowOut]
    total: float | None
    spread: float | None
    median: float | None
    trimmed: bool = Field(description="五人及以上评分时去掉一个最高分和一个最低分")


# --- experts --------------------------------------------------------------------------------------


class AssignedApplicationOut(Schema):
    number: str
    brand: str
    enterprise: str
    enterprise_uscc: str
    region: CodeName
    batch: str
    rule_set: RuleSetRef


class AssignmentOut(Schema):
    application: AssignedApplicationOut
    role: str
    role_label: str
    status: str = Field(description="invited 待声明、accepted、declined、conflict、submitted")
    status_label: str
    declared_at: dt.datetime | None
    submitted_at: dt.datetime | None
    note: str


class AssignmentFilters(PageQuery):
    status: Literal["invited", "accepted", "declined", "conflict", "submitted"] | None = None


class AssignmentPage(Page):
    items: list[AssignmentOut]


class DeclareIn(Body):
    decision: Literal["accept", "decline", "conflict"] = Field(
        description="accept 无利益冲突；conflict 有利益冲突（须说明）；decline 不能参加"
    )
    note: str = Field("", max_length=300)


class ScoreLineOut(Schema):
    indicator: str
    name: str
    dimension: str
    max_score: float
    guidance: str
    score: float | None
    comment: str


class ScoreSheetOut(Schema):
    assignment: AssignmentOut
    lines: list[ScoreLineOut]
    complete: bool = Field(description="每项指标都已评分并填写评语")
    total: float


class ScoreIn(Body):
    indicator: str = Field(pattern=ITEM_CODE)
    score: Decimal = Field(ge=0, le=1000, allow_inf_nan=False)
    comment: str = Field(min_length=1, max_length=5000)


class ScoresIn(Body):
    scores: list[ScoreIn] = Field(min_length=1, max_length=200)


# --- public notices and objections --------------------------------------------------------------


class NoticeOut(Schema):
    uuid: uuid.UUID
    title: str
    batch: BatchRef
    starts_on: dt.date
    ends_on: dt.date
    status: str = Field(description="open 公示中、closed 公示结束")
    status_label: str
    created_at: dt.datetime
    closed_at: dt.datetime | None


class NoticePage(Page):
    items: list[NoticeOut]


class CandidateOut(Schema):
    number: str
    brand: str
    enterprise: str
    category: CodeName
    region: CodeName
    removed: bool = Field(description="异议成立等原因已从名单中移除")
    status: str
    status_label: str


class PublicObjectionOut(Schema):
    number: str = Field(description="异议编号（含校验位），用于查询处理进度")
    application: str
    brand: str
    enterprise: str
    status: str = Field(description="open 待调查、upheld 异议成立、dismissed 异议不成立")
    status_label: str


class NoticeDetail(NoticeOut):
    body: str
    candidates: list[CandidateOut]
    objections: list[PublicObjectionOut]


class ObjectionOut(PublicObjectionOut):
    notice: uuid.UUID
    name: str
    phone: str
    email: str
    content: str
    evidence_sha256: str = Field(description="证明材料的 SHA-256（无材料为空）")
    answer: str
    answered_by: str | None
    answered_at: dt.datetime | None
    created_at: dt.datetime


class ObjectionFilters(PageQuery):
    notice: uuid.UUID | None = None
    status: Literal["open", "upheld", "dismissed"] | None = None
    application: str | None = Field(None, pattern=APPLICATION_NUMBER)


class ObjectionPage(Page):
    items: list[ObjectionOut]


class ObjectionAnswerIn(Body):
    outcome: Literal["upheld", "dismissed"]
    answer: str = Field(min_length=1, max_length=5000)


# --- form bodies (multipart/form-data, with a file) -----------------------------------------------


class EvidenceForm(Body):
    title: str = Field("", max_length=120, description="材料名称；不填则用文件名")
    indicator: str | None = Field(None, pattern=ITEM_CODE, description="对应的指标编号（可不填）")


class ObjectionForm(Body):
    application: str = Field(pattern=APPLICATION_NUMBER, description="被异议的申报编号（见公示名单）")
    name: str = Field(min_length=1, max_length=50, description="异议人姓名或单位名称（保密）")
    phone: str = Field(min_length=1, max_length=30, description="联系电话（保密）")
    email: str = Field("", max_length=254, description="电子邮箱（保密，可不填；填写后答复将发送至该邮箱）")
    content: str = Field(min_length=1, max_length=5000, description="异议的事实和理由（不少于 10 个字）")
