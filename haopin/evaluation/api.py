"""API: batches, applications and their review, the expert draw and scoring, the ranking, and
the public notices with their objections.

Thin, as DESIGN.md asks: reads go through ``evaluation.selectors`` and ``evaluation.policies``
(an application the caller may not see is a 404, whoever asks), writes through the services
(``services``, ``experts``, ``scoring``, ``notices``), which ask the policy again and write the
audit event (a visible object the caller may not change is a 403; an illegal move a 409). Moves
of the review take DESIGN.md's shape, ``POST /applications/{number}/actions/{action}``, and
``GET`` on the same path lists the moves the caller may make now.

Applications are named by their public number, whose check character is verified before any
lookup: a mistyped number is a 422 saying so, never a misleading 404.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from typing import Annotated, Any, Literal

from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import FileResponse, HttpRequest
from ninja import File, Form, Path, Query, Router, Status, UploadedFile

from haopin.core import numbering, workflow
from haopin.core.errors import NotFoundError, PermissionDeniedError, ValidationFailed
from haopin.core.models import Region
from haopin.core.policies import ScopeKind, scope_of
from haopin.evaluation import experts, exports, notices, policies, scoring, selectors, services
from haopin.evaluation.models import (
    Application,
    Assignment,
    Batch,
    Evidence,
    Objection,
    PanelDraw,
    PublicNotice,
    Quota,
    VetoFinding,
)
from haopin.evaluation.schemas import (
    AggregateIn,
    AggregationOut,
    ApplicationCreate,
    ApplicationDetail,
    ApplicationFilters,
    ApplicationPage,
    ApplicationPatch,
    AssignmentFilters,
    AssignmentOut,
    AssignmentPage,
    BatchCreate,
    BatchDetail,
    BatchFilters,
    BatchPage,
    BatchPatch,
    CriterionCheckIn,
    DeclareIn,
    DrawCheckOut,
    DrawIn,
    DrawOut,
    EvidenceForm,
    EvidenceOut,
    FiguresIn,
    MoveIn,
    NoticeDetail,
    NoticePage,
    ObjectionAnswerIn,
    ObjectionFilters,
    ObjectionForm,
    ObjectionOut,
    ObjectionPage,
    PublicObjectionOut,
    QuotaDecisionIn,
    QuotaIn,
    RankingFilters,
    RankingOut,
    RuleSetLink,
    ScoreSheetOut,
    ScoresIn,
    ScoringSheetOut,
    SelfAssessmentIn,
    SignIn,
    SupplementIn,
    VetoRaiseIn,
    VetoResolveIn,
)
from haopin.evaluation.workflow import APPLICATION_TRANSITIONS, BATCH_TRANSITIONS, MANUAL_ACTIONS
from haopin.registry import selectors as registry_selectors
from haopin.registry.api import _visible_or_invalid, reference
from haopin.registry.schemas import PageQuery
from haopin.standards.api import (
    action_out,
    as_float,
    code_name,
    file_openapi,
    file_response,
    get_rule_set,
    page,
    rule_set_out,
    rule_set_ref,
)
from haopin.standards.models import RuleSet, VetoItem
from haopin.standards.schemas import ActionName, ActionOut, ItemCode, PublicNumber

router = Router(tags=["evaluation"])
public_router = Router(tags=["public"])

S = Application.Status
QuotaKind = Literal["category", "city"]
ReferenceCode = Annotated[str, Path(pattern=r"^[0-9]{1,10}$", description="二级类别代码或城市区划代码")]
APPLICATION_LABEL = "申报编号"


# --- shared lookups -------------------------------------------------------------------------------


def compact_number(value: str, label: str = APPLICATION_LABEL) -> str:
    """Upper-cased, separators dropped, check character verified (a typo is a 422, not a 404)."""
    return numbering.normalise(value, label=label)


def get_application(request: HttpRequest, value: str) -> Application:
    return selectors.application_get_for_user(request.user, number=compact_number(value))


def get_batch(request: HttpRequest, batch_uuid: Any) -> Batch:
    return selectors.batch_get_for_user(request.user, batch_uuid)


def _require_office_reader(request: HttpRequest, message: str = "仅省质量强省办可以查看。") -> None:
    if not policies.is_office_reader(request.user):
        raise PermissionDeniedError(message)


def _rule_set_field(request: HttpRequest, rule_set_uuid: Any) -> RuleSet:
    return _visible_or_invalid("rule_set", get_rule_set, request, rule_set_uuid)


def _document_field(request: HttpRequest, document_uuid: Any) -> Any:
    if document_uuid is None:
        return None
    return _visible_or_invalid(
        "document", registry_selectors.document_get_for_user, request.user, document_uuid
    )


def batch_ref(b: Batch) -> dict[str, Any]:
    return {"uuid": b.uuid, "title": b.title, "year": b.year, "sequence": b.sequence, "status": b.status}


def _region_out(region: Region) -> dict[str, str]:
    return {"code": region.code, "name": region.name}


def _city_name(region: Region) -> str:
    if region.level == Region.Level.COUNTY and region.parent is not None:
        return region.parent.name
    return region.name


# --- batches --------------------------------------------------------------------------------------


def batch_out(b: Batch, count: int | None = None) -> dict[str, Any]:
    return {
        "uuid": b.uuid,
        "year": b.year,
        "sequence": b.sequence,
        "title": b.title,
        "status": b.status,
        "status_label": b.get_status_display(),
        "apply_from": b.apply_from,
        "apply_until": b.apply_until,
        "recommend_until": b.recommend_until,
        "review_until": b.review_until,
        "notice_days": b.notice_days,
        "panel_size": b.panel_size,
        "reserve_size": b.reserve_size,
        "avoid_same_city": b.avoid_same_city,
        "certificate_years": b.certificate_years,
        "description": b.description,
        "published_at": b.published_at,
        "application_count": getattr(b, "application_count", count) or 0,
        "created_at": b.created_at,
        "updated_at": b.updated_at,
    }


def _quota_out(q: Quota) -> dict[str, Any]:
    kind, target = ("category", q.category) if q.category is not None else ("city", q.city)
    return {"kind": kind, **(code_name(target) or {}), "limit": q.limit}


def batch_detail(request: HttpRequest, batch_uuid: Any) -> dict[str, Any]:
    batch = get_batch(request, batch_uuid)
    notice = PublicNotice.objects.filter(batch=batch).first()
    return {
        **batch_out(batch, batch.applications.count()),
        "rule_sets": [
            rule_set_out(link.rule_set)
            for link in selectors.batch_rule_sets(batch).select_related("rule_set__based_on")
        ],
        "quotas": [_quota_out(q) for q in selectors.batch_quotas(batch)],
        "notice": None
        if notice is None
        else {
            "uuid": notice.uuid,
            "title": notice.title,
            "starts_on": notice.starts_on,
            "ends_on": notice.ends_on,
            "status": notice.status,
        },
        "status_counts": selectors.application_status_counts(request.user, batch=batch),
        "actions": [
            action_out(name, move)
            for name, move in workflow.available(BATCH_TRANSITIONS, batch, request.user)
        ],
    }


@router.get("/batches", response=BatchPage, summary="评价批次列表（草稿仅省质量强省办可见）")
def list_batches(request: HttpRequest, filters: Query[BatchFilters]):
    qs = selectors.batch_list_for_user(request.user)
    if filters.year:
        qs = qs.filter(year=filters.year)
    if filters.status:
        qs = qs.filter(status=filters.status)
    return page(qs, filters, batch_out)


@router.post("/batches", response={201: BatchDetail}, summary="创建评价批次（草稿，省质量强省办）")
def create_batch(request: HttpRequest, payload: BatchCreate):
    batch = services.batch_create(actor=request.user, **payload.model_dump())
    return Status(201, batch_detail(request, batch.uuid))


@router.get(
    "/batches/{uuid}", response=BatchDetail, summary="批次详情：评价细则、名额、公示、申报统计、可执行操作"
)
def get_batch_detail(request: HttpRequest, uuid: uuid.UUID):
    return batch_detail(request, uuid)


@router.patch(
    "/batches/{uuid}",
    response=BatchDetail,
    summary="修改批次（草稿可改全部；开始申报后只能调整后续阶段的日期和公示期）",
)
def patch_batch(request: HttpRequest, uuid: uuid.UUID, payload: BatchPatch):
    batch = get_batch(request, uuid)
    services.batch_update(actor=request.user, batch=batch, **payload.model_dump(exclude_unset=True))
    return batch_detail(request, uuid)


@router.get("/batches/{uuid}/actions", response=list[ActionOut], summary="您现在可以执行的批次操作")
def batch_actions(request: HttpRequest, uuid: uuid.UUID):
    batch = get_batch(request, uuid)
    return [
        action_out(name, move) for name, move in workflow.available(BATCH_TRANSITIONS, batch, request.user)
    ]


@router.post(
    "/batches/{uuid}/actions/{action}",
    response=BatchDetail,
    summary="批次操作：open、close_applications、open_notice、publish、close",
    description="open 开始申报；close_applications 截止申报、进入评审；open_notice 发布公示"
    "（所有申报须已作出决定）；publish 公示办结后发布结果并颁发证书；close 结束批次。",
)
def batch_action(request: HttpRequest, uuid: uuid.UUID, action: ActionName):
    batch = get_batch(request, uuid)
    services.batch_move(actor=request.user, batch=batch, action=action)
    return batch_detail(request, uuid)


@router.post(
    "/batches/{uuid}/rule-sets", response={201: BatchDetail}, summary="为批次选用一套已发布的评价细则"
)
def attach_rule_set(request: HttpRequest, uuid: uuid.UUID, payload: RuleSetLink):
    batch = get_batch(request, uuid)
    services.batch_rule_set_attach(
        actor=request.user, batch=batch, rule_set=_rule_set_field(request, payload.rule_set)
    )
    return Status(201, batch_detail(request, uuid))


@router.delete("/batches/{uuid}/rule-sets/{rule_set}", response={204: None}, summary="移除批次选用的评价细则")
def detach_rule_set(request: HttpRequest, uuid: uuid.UUID, rule_set: uuid.UUID):
    batch = get_batch(request, uuid)
    services.batch_rule_set_detach(actor=request.user, batch=batch, rule_set=get_rule_set(request, rule_set))
    return Status(204, None)


def _quota_target(kind: QuotaKind, code: str) -> dict[str, Any]:
    if kind == "category":
        return {"category": reference("category", code)}
    return {"city": reference("region", code)}


@router.put(
    "/batches/{uuid}/quotas/{kind}/{code}",
    response=BatchDetail,
    summary="设置名额：kind 为 category（二级类别代码）或 city（城市区划代码）",
)
def set_quota(request: HttpRequest, uuid: uuid.UUID, kind: QuotaKind, code: ReferenceCode, payload: QuotaIn):
    batch = get_batch(request, uuid)
    services.batch_quota_set(
        actor=request.user, batch=batch, limit=payload.limit, **_quota_target(kind, code)
    )
    return batch_detail(request, uuid)


@router.delete("/batches/{uuid}/quotas/{kind}/{code}", response={204: None}, summary="取消名额")
def remove_quota(request: HttpRequest, uuid: uuid.UUID, kind: QuotaKind, code: ReferenceCode):
    batch = get_batch(request, uuid)
    target = _quota_target(kind, code)
    quota = batch.quotas.filter(**target).first()
    if quota is None:
        raise NotFoundError("本批次没有该名额。")
    services.batch_quota_remove(actor=request.user, quota=quota)
    return Status(204, None)


# --- the expert draw, aggregation, ranking ---------------------------------------------------------


def _draws_out(draws: list[PanelDraw]) -> list[dict[str, Any]]:
    numbers: dict[int, set[str]] = defaultdict(set)
    seats: dict[int, int] = defaultdict(int)
    for draw_id, application_number in Assignment.objects.filter(draw__in=draws).values_list(
        "draw_id", "application__number"
    ):
        numbers[draw_id].add(application_number)
        seats[draw_id] += 1
    result = []
    for draw in draws:
        drawn = numbers[draw.pk] | {s["application"] for s in draw.shortfalls if s.get("kind") == "draw"}
        result.append(
            {
                "uuid": draw.uuid,
                "rule_set": rule_set_ref(draw.rule_set),
                "seed": draw.seed,
                "panel_size": draw.panel_size,
                "reserve_size": draw.reserve_size,
                "avoid_same_city": draw.avoid_same_city,
                "pool_digest": draw.pool_digest,
                "result_digest": draw.result_digest,
                "applications": sorted(drawn),
                "seats": seats[draw.pk],
                "shortfalls": [
                    {k: v for k, v in s.items() if k not in {"id", "vacated"}} for s in draw.shortfalls
                ],
                "created_by": str(draw.created_by),
                "created_at": draw.created_at,
            }
        )
    return result


def _draw(batch: Batch, draw_uuid: Any) -> PanelDraw:
    draw = experts.draws_for_batch(batch).filter(uuid=draw_uuid).first()
    if draw is None:
        raise NotFoundError("本批次没有该次抽取。")
    return draw


@router.get("/batches/{uuid}/draws", response=list[DrawOut], summary="批次的专家抽取记录（省质量强省办）")
def list_draws(request: HttpRequest, uuid: uuid.UUID):
    batch = get_batch(request, uuid)
    _require_office_reader(request, "专家抽取记录仅省质量强省办可以查看。")
    return _draws_out(list(experts.draws_for_batch(batch)))


@router.post(
    "/batches/{uuid}/draws",
    response={201: DrawOut},
    summary="为一套评价细则下待专家评审的申报抽取评审专家（可重现：记录随机种子）",
    description="回避本单位、竞争对手、曾声明利益冲突和（按批次设置）同城的专家；抽取后这些申报进入专家评审。",
)
def make_draw(request: HttpRequest, uuid: uuid.UUID, payload: DrawIn):
    batch = get_batch(request, uuid)
    rule_set = _rule_set_field(request, payload.rule_set)
    draw = experts.draw_panels(actor=request.user, batch=batch, rule_set=rule_set, seed=payload.seed)
    return Status(201, _draws_out([_draw(batch, draw.uuid)])[0])


@router.get(
    "/batches/{uuid}/draws/{draw}",
    response=DrawCheckOut,
    summary="一次抽取的记录，并按记录的种子重算核对（可重现性检查）",
)
def check_draw(request: HttpRequest, uuid: uuid.UUID, draw: uuid.UUID):
    batch = get_batch(request, uuid)
    _require_office_reader(request, "专家抽取记录仅省质量强省办可以查看。")
    found = _draw(batch, draw)
    check = experts.draw_check(found)
    return {
        **_draws_out([found])[0],
        "result_matches": check.result_matches,
        "pool_matches": check.pool_matches,
        "exclusions": check.exclusions,
    }


@router.post(
    "/batches/{uuid}/aggregate",
    response=AggregationOut,
    summary="汇总一套评价细则下的专家评分：去极值平均、离散度、排名、合格线、名额",
)
def aggregate(request: HttpRequest, uuid: uuid.UUID, payload: AggregateIn):
    batch = get_batch(request, uuid)
    rule_set = _rule_set_field(request, payload.rule_set)
    result = scoring.aggregate(actor=request.user, batch=batch, rule_set=rule_set)
    return {
        "applications": result.applications,
        "passed": result.passed,
        "quota_ties": result.ties,
        "outliers": {n: len(flagged) for n, flagged in result.outliers.items()},
        "cleared_decisions": result.cleared_decisions,
        "quota_changes": result.quota_changes,
    }


def _batch_rule_sets(request: HttpRequest, batch: Batch, rule_set_uuid: Any) -> list[RuleSet]:
    links = selectors.batch_rule_sets(batch).select_related("rule_set__based_on")
    rule_sets = [link.rule_set for link in links]
    if rule_set_uuid is not None:
        rule_sets = [r for r in rule_sets if r.uuid == rule_set_uuid]
        if not rule_sets:
            message = "本批次未采用该评价细则。"
            raise ValidationFailed(message, details={"rule_set": message})
    return rule_sets


@router.get(
    "/batches/{uuid}/ranking", response=list[RankingOut], summary="按评价细则（类别）的排名（省质量强省办）"
)
def ranking(request: HttpRequest, uuid: uuid.UUID, filters: Query[RankingFilters]):
    batch = get_batch(request, uuid)
    _require_office_reader(request, "评分表和排名仅供省质量强省办查看。")
    result = []
    for rule_set in _batch_rule_sets(request, batch, filters.rule_set):
        outliers = scoring.outlier_counts(batch, rule_set)
        rows = [
            {
                "rank": a.rank,
                "number": a.number,
                "brand": a.brand.name,
                "enterprise": a.enterprise.name,
                "city": _city_name(a.enterprise.region),
                "score_total": as_float(a.score_total),
                "score_spread": as_float(a.score_spread),
                "passed": a.passed,
                "within_quota": a.within_quota,
                "quota_tie": a.quota_tie,
                "outliers": outliers.get(a.pk, 0),
                "status": a.status,
                "status_label": a.get_status_display(),
            }
            for a in scoring.ranking(batch, rule_set).select_related("enterprise__region__parent")
        ]
        result.append({"rule_set": rule_set_out(rule_set), "rows": rows})
    return result


@router.get(
    "/batches/{uuid}/ranking.xlsx",
    response={200: None},
    summary="导出排名（.xlsx，每套评价细则一个工作表）",
    openapi_extra=file_openapi(),
)
def ranking_xlsx(request: HttpRequest, uuid: uuid.UUID, filters: Query[RankingFilters]):
    batch = get_batch(request, uuid)
    _require_office_reader(request, "评分表和排名仅供省质量强省办查看。")
    rule_sets = _batch_rule_sets(request, batch, filters.rule_set)
    only = rule_sets[0] if filters.rule_set is not None else None
    content = exports.ranking_xlsx(actor=request.user, batch=batch, rule_set=only)
    return file_response(content, f"{batch.title}-排名.xlsx")


# --- applications: reading ----------------------------------------------------------------------


def application_out(a: Application) -> dict[str, Any]:
    return {
        "uuid": a.uuid,
        "number": a.number,
        "batch": batch_ref(a.batch),
        "brand": {"uuid": a.brand.uuid, "name": a.brand.name},
        "enterprise": {"uuid": a.enterprise.uuid, "name": a.enterprise.name, "uscc": a.enterprise.uscc},
        "category": code_name(a.brand.category),
        "rule_set": rule_set_ref(a.rule_set),
        "route": a.route,
        "recommender": None
        if a.recommender is None
        else {"uuid": a.recommender.uuid, "name": a.recommender.name},
        "status": a.status,
        "status_label": a.get_status_display(),
        "submitted_at": a.submitted_at,
        "return_deadline": a.return_deadline,
        "created_at": a.created_at,
        "updated_at": a.updated_at,
    }


def application_actions(application: Application, user: Any) -> list[dict[str, Any]]:
    """The review moves ``user`` may make on ``application`` now (the batch-wide moves — expert
    review, notice, publication — are taken on the batch, not here)."""
    return [
        action_out(name, move)
        for name, move in workflow.available(APPLICATION_TRANSITIONS, application, user)
        if name in MANUAL_ACTIONS
    ]


def _is_declared_expert(user: Any, application: Application) -> bool:
    profile = policies.expert_profile(user)
    return (
        profile is not None
        and Assignment.objects.filter(
            application=application, expert=profile, status__in=policies.DECLARED
        ).exists()
    )


def application_detail(request: HttpRequest, application: Application) -> dict[str, Any]:
    """Everything about ``application`` the caller may see: the review results and who raised a
    veto are the office's; veto findings are also shown to the application's experts."""
    user = request.user
    data = selectors.application_page(application)
    a = data.application
    office = policies.is_office_reader(user)
    sees_findings = office or _is_declared_expert(user, a)
    assessments = data.self_assessments
    labels = {name: move.label for name, move in APPLICATION_TRANSITIONS.items()}
    outcomes = data.eligibility.outcomes
    return {
        **application_out(a),
        "summary": a.summary,
        "competitors": a.competitors,
        "national_rank": a.national_rank,
        "provincial_rank": a.provincial_rank,
        "credit_clean": a.credit_clean,
        "inspection_clean": a.inspection_clean,
        "declaration": {"signed_by": a.declaration_signed_by, "signed_at": a.declaration_signed_at},
        "products": [{"uuid": p.uuid, "name": p.name, "kind": p.kind} for p in data.products],
        "required_years": selectors.required_years(a.batch),
        "figures": [
            {
                "year": f.year,
                "revenue": as_float(f.revenue),
                "profit": as_float(f.profit),
                "tax": as_float(f.tax),
                "rd_spend": as_float(f.rd_spend),
                "export": as_float(f.export),
                "employees": f.employees,
                "rd_ratio": as_float(f.rd_ratio),
            }
            for f in data.figures
        ],
        "self_assessment": [
            {
                "indicator": i.code,
                "name": i.name,
                "max_score": as_float(i.max_score),
                "score": as_float(assessments[i.pk].score) if i.pk in assessments else None,
                "note": assessments[i.pk].note if i.pk in assessments else "",
            }
            for i in data.leaf_indicators
        ],
        "evidence": [evidence_out(e) for e in data.evidence],
        "gaps": data.gaps,
        "eligibility": {
            "verdict": data.eligibility.verdict,
            "problems": data.eligibility.problems,
            "outcomes": [
                {
                    "criterion": o.criterion.code,
                    "text": o.criterion.text,
                    "automatic": o.criterion.is_automatic,
                    "met": o.met,
                    "explanation": o.explanation,
                }
                for o in outcomes
            ],
        },
        "decisions": [
            {
                "action": d.action,
                "label": labels.get(d.action, d.action),
                "from_status": d.from_status,
                "to_status": d.to_status,
                # Reviewers' names are for the office; others see the deciding unit.
                "actor": str(d.actor) if office else "",
                "organisation": d.organisation.name if d.organisation is not None else "",
                "opinion": d.opinion,
                "deadline": d.deadline,
                "document": d.document.uuid if d.document is not None else None,
                "created_at": d.created_at,
            }
            for d in data.decisions
        ],
        "veto_findings": [
            {
                "veto_item": f.veto_item.code,
                "text": f.veto_item.text,
                "status": f.status,
                "note": f.note,
                "raised_by": str(f.raised_by) if office else None,
                "resolution": f.resolution,
                "created_at": f.created_at,
            }
            for f in data.findings
        ]
        if sees_findings
        else None,
        "results": {
            "score_total": as_float(a.score_total),
            "score_spread": as_float(a.score_spread),
            "rank": a.rank,
            "passed": a.passed,
            "within_quota": a.within_quota,
            "quota_tie": a.quota_tie,
        }
        if office
        else None,
        "actions": application_actions(a, user),
    }


def evidence_out(e: Evidence) -> dict[str, Any]:
    return {
        "document": e.document.uuid,
        "title": e.title,
        "indicator": e.indicator.code if e.indicator is not None else None,
        "file_name": e.document.original_name,
        "content_type": e.document.content_type,
        "size": e.document.size,
        "sha256": e.document.sha256,
        "created_at": e.created_at,
    }


def _detail(request: HttpRequest, application: Application) -> dict[str, Any]:
    return application_detail(request, get_application(request, application.number))


@router.get("/applications", response=ApplicationPage, summary="申报列表（按权限范围）")
def list_applications(request: HttpRequest, filters: Query[ApplicationFilters]):
    qs = selectors.application_list_for_user(request.user).select_related("brand__category", "recommender")
    if filters.batch:
        qs = qs.filter(batch__uuid=filters.batch)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.route:
        qs = qs.filter(route=filters.route)
    if filters.rule_set:
        qs = qs.filter(rule_set__uuid=filters.rule_set)
    if filters.category:
        qs = qs.filter(brand__category__code__startswith=reference("category", filters.category).code)
    if filters.q and filters.q.strip():
        term = filters.q.strip()
        qs = qs.filter(
            Q(number__icontains=term.upper())
            | Q(brand__name__icontains=term)
            | Q(enterprise__name__icontains=term)
        )
    return page(qs, filters, application_out)


@router.post(
    "/applications",
    response={201: ApplicationDetail},
    summary="申报（品牌所属单位）或推荐（市、县市场监管局或主管厅局）一个品牌",
    description="品牌所属单位的经办人员提交自愿申报；推荐单位为其推荐范围内的品牌创建推荐申报，"
    "由品牌所属单位完善后提交。",
)
def create_application(request: HttpRequest, payload: ApplicationCreate):
    user = request.user
    batch = _visible_or_invalid("batch", selectors.batch_get_for_user, user, payload.batch)
    brand = _visible_or_invalid("brand", registry_selectors.brand_get_for_user, user, payload.brand)
    if scope_of(user).kind in {ScopeKind.REGION, ScopeKind.DEPARTMENT}:
        application = services.application_recommend_start(
            actor=user, batch=batch, brand=brand, summary=payload.summary
        )
    else:
        # One transaction: an application is not left started without the text it was sent with.
        with transaction.atomic():
            application = services.application_start(actor=user, batch=batch, brand=brand)
            if payload.summary.strip():
                services.application_update(actor=user, application=application, summary=payload.summary)
    return Status(201, _detail(request, application))


@router.get("/applications/{number}", response=ApplicationDetail, summary="申报详情（您可见的全部内容）")
def get_application_detail(request: HttpRequest, number: PublicNumber):
    return application_detail(request, get_application(request, number))


# --- applications: filling in ---------------------------------------------------------------------


@router.patch(
    "/applications/{number}",
    response=ApplicationDetail,
    summary="修改申报内容（填报中或退回修改时；只传要改的字段）",
)
def patch_application(request: HttpRequest, number: PublicNumber, payload: ApplicationPatch):
    application = get_application(request, number)
    values = payload.model_dump(exclude_unset=True)
    products = None
    if "products" in values:
        wanted = list(dict.fromkeys(values.pop("products")))
        found = list(registry_selectors.product_list_for_user(request.user).filter(uuid__in=wanted))
        if len(found) != len(wanted):
            message = "所选产品/服务不存在或您无权查看。"
            raise ValidationFailed(message, details={"products": message})
        products = found
    services.application_update(actor=request.user, application=application, products=products, **values)
    return _detail(request, application)


@router.put(
    "/applications/{number}/figures",
    response=ApplicationDetail,
    summary="填写主要经济指标（批次年度前三年，每年一行；未提交的年度保持不变）",
)
def put_figures(request: HttpRequest, number: PublicNumber, payload: FiguresIn):
    application = get_application(request, number)
    services.application_set_figures(
        actor=request.user, application=application, figures=[f.model_dump() for f in payload.figures]
    )
    return _detail(request, application)


@router.put(
    "/applications/{number}/self-assessment",
    response=ApplicationDetail,
    summary="对照评价细则的二级指标自评（分数与说明）",
)
def put_self_assessment(request: HttpRequest, number: PublicNumber, payload: SelfAssessmentIn):
    application = get_application(request, number)
    scores = {e.indicator: e.score for e in payload.items if e.score is not None}
    notes = {e.indicator: e.note for e in payload.items if e.note is not None}
    services.application_set_self_assessment(
        actor=request.user, application=application, scores=scores, notes=notes
    )
    return _detail(request, application)


@router.post(
    "/applications/{number}/evidence",
    response={201: EvidenceOut},
    summary="上传证明材料（multipart/form-data：file，title，indicator）",
    description="PDF、JPEG 或 PNG，按文件内容识别类型。",
)
def add_evidence(
    request: HttpRequest, number: PublicNumber, form: Form[EvidenceForm], file: File[UploadedFile]
):
    application = get_application(request, number)
    indicator = None
    if form.indicator:
        indicator = application.rule_set.indicators.filter(code=form.indicator).first()
        if indicator is None:
            message = f"本申报适用的评价细则没有编号为“{form.indicator}”的指标。"
            raise ValidationFailed(message, details={"indicator": message})
    evidence = services.application_evidence_add(
        actor=request.user,
        application=application,
        upload=file,
        name=file.name or "evidence",
        title=form.title,
        indicator=indicator,
    )
    evidence = Evidence.objects.select_related("document", "indicator").get(pk=evidence.pk)
    return Status(201, evidence_out(evidence))


@router.delete("/applications/{number}/evidence/{document}", response={204: None}, summary="删除证明材料")
def remove_evidence(request: HttpRequest, number: PublicNumber, document: uuid.UUID):
    application = get_application(request, number)
    evidence = application.evidence.filter(document__uuid=document).select_related("application").first()
    if evidence is None:
        raise NotFoundError("本申报没有该证明材料。")
    services.application_evidence_remove(actor=request.user, evidence=evidence)
    return Status(204, None)


@router.post(
    "/applications/{number}/declaration",
    response=ApplicationDetail,
    summary="签署申报材料真实性承诺（之后任何修改都会使承诺失效）",
)
def sign_declaration(request: HttpRequest, number: PublicNumber, payload: SignIn):
    application = get_application(request, number)
    services.application_sign_declaration(actor=request.user, application=application, name=payload.name)
    return _detail(request, application)


# --- applications: the review -------------------------------------------------------------------


@router.get(
    "/applications/{number}/actions", response=list[ActionOut], summary="您现在可以对该申报执行的操作"
)
def list_application_actions(request: HttpRequest, number: PublicNumber):
    return application_actions(get_application(request, number), request.user)


@router.post(
    "/applications/{number}/actions/{action}",
    response=ApplicationDetail,
    summary="审查操作：submit、recommend、qualify、check、consult、approve、return、reject、withdraw",
    description="opinion 为意见（recommend、qualify、check、consult、approve、return、reject 必填），"
    "deadline 为退回修改的整改期限（return 必填，须晚于今天）；expected_status 为您看到的状态，"
    "如申报已被他人处理则返回 409 且不做任何修改。不允许的操作返回 409（illegal_transition），"
    "无权执行返回 403。进入专家评审、完成评审、公示和发布由批次操作完成。",
)
def application_action(
    request: HttpRequest, number: PublicNumber, action: ActionName, payload: MoveIn | None = None
):
    application = get_application(request, number)
    if action not in APPLICATION_TRANSITIONS:
        message = f"未知的操作“{action[:20]}”，可选：{'、'.join(MANUAL_ACTIONS)}。"
        raise ValidationFailed(message, code="unknown_action", details={"action": message})
    if action not in MANUAL_ACTIONS:
        label = APPLICATION_TRANSITIONS[action].label
        message = f"“{label}”由批次操作完成（抽取专家、汇总评分、发布公示、发布结果），不能对单项申报执行。"
        raise ValidationFailed(message, code="batch_action", details={"action": message})
    payload = payload or MoveIn.model_validate({})
    services.application_move(
        application=application,
        action=action,
        actor=request.user,
        opinion=payload.opinion,
        deadline=payload.deadline,
        document=_document_field(request, payload.document),
        expected_status=payload.expected_status,
    )
    return _detail(request, application)


@router.put(
    "/applications/{number}/criteria/{code}",
    response=ApplicationDetail,
    summary="资格审查：判定一项人工审查的资格条件（或数据缺失时的认定，须说明依据）",
)
def check_criterion(request: HttpRequest, number: PublicNumber, code: ItemCode, payload: CriterionCheckIn):
    application = get_application(request, number)
    criterion = application.rule_set.criteria.filter(code=code).first()
    if criterion is None:
        raise NotFoundError(f"本申报适用的评价细则没有编号为“{code[:20]}”的资格条件。")
    services.application_check_criterion(
        actor=request.user, application=application, criterion=criterion, met=payload.met, note=payload.note
    )
    return _detail(request, application)


def _veto_item(application: Application, code: str) -> VetoItem:
    item = application.rule_set.veto_items.filter(code=code).first()
    if item is None:
        message = f"本申报适用的评价细则没有编号为“{code}”的否决项。"
        raise ValidationFailed(message, details={"veto_item": message})
    return item


@router.post(
    "/applications/{number}/veto-findings",
    response={201: ApplicationDetail},
    summary="提出否决情形（省质量强省办；评审专家请用 /me/assignments/{number}/veto-findings）",
)
def raise_veto(request: HttpRequest, number: PublicNumber, payload: VetoRaiseIn):
    application = get_application(request, number)
    services.veto_raise(
        actor=request.user,
        application=application,
        veto_item=_veto_item(application, payload.veto_item),
        note=payload.note,
        document=_document_field(request, payload.document),
    )
    return Status(201, _detail(request, application))


@router.post(
    "/applications/{number}/veto-findings/{code}/resolution",
    response=ApplicationDetail,
    summary="核实待核实的否决情形：成立（confirmed=true，应不予通过）或不成立",
)
def resolve_veto(request: HttpRequest, number: PublicNumber, code: ItemCode, payload: VetoResolveIn):
    application = get_application(request, number)
    finding = (
        VetoFinding.objects.filter(
            application=application, veto_item__code=code, status=VetoFinding.Status.RAISED
        )
        .select_related("veto_item")
        .first()
    )
    if finding is None:
        raise NotFoundError(f"该申报没有待核实的否决情形“{code[:20]}”。")
    services.veto_resolve(
        actor=request.user, finding=finding, confirmed=payload.confirmed, resolution=payload.resolution
    )
    return _detail(request, application)


@router.post(
    "/applications/{number}/quota-decision",
    response=ApplicationDetail,
    summary="名额线同分的裁定：纳入（admit=true）或不纳入，须说明理由",
)
def decide_quota(request: HttpRequest, number: PublicNumber, payload: QuotaDecisionIn):
    application = get_application(request, number)
    scoring.quota_decide(
        actor=request.user, application=application, admit=payload.admit, reason=payload.reason
    )
    return _detail(request, application)


@router.post(
    "/applications/{number}/draws",
    response={201: DrawOut},
    summary="补充抽取：评审组缺人且无备选专家时为该申报补抽",
)
def supplement_draw(request: HttpRequest, number: PublicNumber, payload: SupplementIn | None = None):
    application = get_application(request, number)
    payload = payload or SupplementIn.model_validate({})
    draw = experts.draw_supplement(actor=request.user, application=application, seed=payload.seed)
    return Status(201, _draws_out([_draw(application.batch, draw.uuid)])[0])


@router.get(
    "/applications/{number}/scoring-sheet",
    response=ScoringSheetOut,
    summary="评分表：每位专家的评分和评语、去极值平均、总分、离散度（省质量强省办）",
)
def scoring_sheet(request: HttpRequest, number: PublicNumber):
    application = get_application(request, number)
    _require_office_reader(request, "评分表和排名仅供省质量强省办查看。")
    sheet = scoring.scoring_sheet(application)
    return {
        "application": application.number,
        "experts": [
            {
                "name": e.name,
                "employer": e.employer,
                "role": e.role,
                "status": e.status,
                "submitted": e.submitted,
                "total": as_float(e.total),
                "outlier": e.outlier,
            }
            for e in sheet.experts
        ],
        "rows": [
            {
                "indicator": r.code,
                "name": r.name,
                "dimension": r.dimension,
                "max_score": as_float(r.max_score),
                "cells": [None if c is None else {"score": as_float(c[0]), "comment": c[1]} for c in r.cells],
                "mean": as_float(r.mean),
            }
            for r in sheet.rows
        ],
        "total": as_float(sheet.total),
        "spread": as_float(sheet.spread),
        "median": as_float(sheet.median),
        "trimmed": sheet.trimmed,
    }


@router.get(
    "/applications/{number}/scoring-sheet.xlsx",
    response={200: None},
    summary="导出评分表（.xlsx）",
    openapi_extra=file_openapi(),
)
def scoring_sheet_xlsx(request: HttpRequest, number: PublicNumber):
    application = get_application(request, number)
    _require_office_reader(request, "评分表和排名仅供省质量强省办查看。")
    content = exports.scoring_sheet_xlsx(actor=request.user, application=application)
    return file_response(content, f"评分表-{application.number}.xlsx")


# --- experts: my assignments and score sheets ------------------------------------------------------


def assignment_out(a: Assignment) -> dict[str, Any]:
    application = a.application
    return {
        "application": {
            "number": application.number,
            "brand": application.brand.name,
            "enterprise": application.enterprise.name,
            "enterprise_uscc": application.enterprise.uscc,
            "region": _region_out(application.enterprise.region),
            "batch": application.batch.title,
            "rule_set": rule_set_ref(application.rule_set),
        },
        "role": a.role,
        "role_label": a.get_role_display(),
        "status": a.status,
        "status_label": a.get_status_display(),
        "declared_at": a.declared_at,
        "submitted_at": a.submitted_at,
        "note": a.conflict_note,
    }


def get_assignment(request: HttpRequest, value: str) -> Assignment:
    """The caller's own (non-standby) seat on the application; anyone else's is a 404."""
    return experts.assignment_get_for_expert(request.user, application__number=compact_number(value))


def score_sheet_out(request: HttpRequest, assignment: Assignment) -> dict[str, Any]:
    assignment, lines = scoring.expert_sheet(request.user, assignment.pk)
    return {
        "assignment": assignment_out(assignment),
        "lines": [
            {
                "indicator": indicator.code,
                "name": indicator.name,
                "dimension": indicator.parent.name if indicator.parent is not None else "",
                "max_score": as_float(indicator.max_score),
                "guidance": indicator.guidance,
                "score": as_float(score.score) if score else None,
                "comment": score.comment if score else "",
            }
            for indicator, score in lines
        ],
        "complete": all(score is not None for _, score in lines),
        "total": float(sum(score.score for _, score in lines if score is not None)),
    }


@router.get("/me/assignments", response=AssignmentPage, summary="我的评审任务（专家）")
def my_assignments(request: HttpRequest, filters: Query[AssignmentFilters]):
    qs = experts.assignment_list_for_expert(request.user)
    if filters.status:
        qs = qs.filter(status=filters.status)
    return page(qs, filters, assignment_out)


@router.get("/me/assignments/{number}", response=AssignmentOut, summary="我的一项评审任务")
def my_assignment(request: HttpRequest, number: PublicNumber):
    return assignment_out(get_assignment(request, number))


@router.post(
    "/me/assignments/{number}/declaration",
    response=AssignmentOut,
    summary="利益冲突声明：accept（无利益冲突）、conflict（有利益冲突，须说明）或 decline（不能参加）",
    description="声明无利益冲突后才能查看申报材料并评分；声明冲突或拒绝时由备选专家递补。",
)
def declare(request: HttpRequest, number: PublicNumber, payload: DeclareIn):
    assignment = get_assignment(request, number)
    if payload.decision == "decline":
        experts.assignment_decline(actor=request.user, assignment=assignment, note=payload.note)
    else:
        experts.assignment_declare(
            actor=request.user,
            assignment=assignment,
            conflict=payload.decision == "conflict",
            note=payload.note,
        )
    return assignment_out(get_assignment(request, number))


@router.get("/me/assignments/{number}/scores", response=ScoreSheetOut, summary="我的评分表（含草稿）")
def my_scores(request: HttpRequest, number: PublicNumber):
    return score_sheet_out(request, get_assignment(request, number))


@router.put(
    "/me/assignments/{number}/scores",
    response=ScoreSheetOut,
    summary="保存评分草稿（部分或全部指标；每项须有分数和评语）",
)
def save_scores(request: HttpRequest, number: PublicNumber, payload: ScoresIn):
    assignment = get_assignment(request, number)
    entries: dict[str, dict[str, Any]] = {}
    for entry in payload.scores:
        if entry.indicator in entries:
            message = f"指标 {entry.indicator} 重复。"
            raise ValidationFailed(message, details={entry.indicator: message})
        entries[entry.indicator] = {"score": entry.score, "comment": entry.comment}
    scoring.scores_save(actor=request.user, assignment=assignment, scores=entries)
    return score_sheet_out(request, assignment)


@router.post(
    "/me/assignments/{number}/scores/submission",
    response=ScoreSheetOut,
    summary="提交评分（须每项指标都已评分；提交后不能修改）",
)
def submit_scores(request: HttpRequest, number: PublicNumber):
    assignment = get_assignment(request, number)
    scoring.scores_submit(actor=request.user, assignment=assignment)
    return score_sheet_out(request, assignment)


@router.post(
    "/me/assignments/{number}/veto-findings",
    response={201: AssignmentOut},
    summary="评审专家提出否决情形（须已声明无利益冲突，专家评审期间）",
)
def expert_veto(request: HttpRequest, number: PublicNumber, payload: VetoRaiseIn):
    assignment = get_assignment(request, number)
    application = Application.objects.select_related("rule_set").get(pk=assignment.application_id)
    scoring.expert_veto_raise(
        actor=request.user,
        assignment=assignment,
        veto_item=_veto_item(application, payload.veto_item),
        note=payload.note,
        document=_document_field(request, payload.document),
    )
    return Status(201, assignment_out(get_assignment(request, number)))


# --- public notices and objections ------------------------------------------------------------------


def notice_out(n: PublicNotice) -> dict[str, Any]:
    return {
        "uuid": n.uuid,
        "title": n.title,
        "batch": batch_ref(n.batch),
        "starts_on": n.starts_on,
        "ends_on": n.ends_on,
        "status": n.status,
        "status_label": n.get_status_display(),
        "created_at": n.created_at,
        "closed_at": n.closed_at,
    }


def public_objection_out(o: notices.PublicObjection) -> dict[str, Any]:
    return {
        "number": o.number,
        "application": o.application_number,
        "brand": o.brand,
        "enterprise": o.enterprise,
        "status": o.status,
        "status_label": o.status_label,
    }


def _notice(notice_uuid: Any) -> PublicNotice:
    notice = notices.notices_public().filter(uuid=notice_uuid).first()
    if notice is None:
        raise NotFoundError("公示不存在。")
    return notice


@public_router.get("/notices", auth=None, response=NoticePage, summary="公示列表（公开）")
def list_notices(request: HttpRequest, filters: Query[PageQuery]):
    return page(notices.notices_public(), filters, notice_out)


@public_router.get(
    "/notices/{uuid}",
    auth=None,
    response=NoticeDetail,
    summary="公示详情：拟入选名单和已受理异议的处理情况（公开）",
)
def get_notice(request: HttpRequest, uuid: uuid.UUID):
    notice = _notice(uuid)
    return {
        **notice_out(notice),
        "body": notice.body,
        "candidates": [
            {
                "number": a.number,
                "brand": a.brand.name,
                "enterprise": a.enterprise.name,
                "category": code_name(a.brand.category),
                "region": _region_out(a.enterprise.region),
                "removed": a.status in {S.REJECTED, S.WITHDRAWN},
                "status": a.status,
                "status_label": a.get_status_display(),
            }
            for a in notices.notice_candidates(notice)
        ],
        "objections": [public_objection_out(o) for o in notices.objections_public(notice)],
    }


@public_router.post(
    "/notices/{uuid}/objections",
    auth=None,
    response={201: PublicObjectionOut},
    summary="对公示名单中的品牌提出异议（公开，无需登录）",
    description="multipart/form-data：application（申报编号）、name、phone、email（可选）、content、"
    "evidence（证明材料，PDF/JPEG/PNG，可选）。联系方式仅省质量强省办可见。同一网络地址每小时最多"
    f"提交 {notices.LODGE_LIMIT} 件（超出返回 429）；重复提交相同异议返回 409。",
)
def lodge_objection(
    request: HttpRequest,
    uuid: uuid.UUID,
    form: Form[ObjectionForm],
    evidence: UploadedFile | None = File(None),  # noqa: B008 — ninja's way of declaring a file part
):
    notice = _notice(uuid)
    try:
        wanted = compact_number(form.application)
    except ValidationFailed as exc:
        raise ValidationFailed(exc.message, code=exc.code, details={"application": exc.message}) from exc
    application = notices.notice_candidates(notice).filter(number=wanted).first()
    if application is None:
        message = f"申报“{wanted}”不在本公示的名单中。"
        raise ValidationFailed(message, details={"application": message})
    objection = notices.objection_lodge(
        application=application,
        name=form.name,
        phone=form.phone,
        email=form.email,
        content=form.content,
        evidence=evidence,
    )
    return Status(201, public_objection_out(notices.objection_public_get(objection.number)))


@public_router.get(
    "/objections/{number}",
    auth=None,
    response=PublicObjectionOut,
    summary="按异议编号查询处理进度（公开，不含异议人信息）",
)
def get_public_objection(request: HttpRequest, number: PublicNumber):
    return public_objection_out(notices.objection_public_get(number))


# --- objections: the office's side -------------------------------------------------------------------


def objection_out(o: Objection) -> dict[str, Any]:
    return {
        "number": o.number,
        "application": o.application.number,
        "brand": o.application.brand.name,
        "enterprise": o.application.enterprise.name,
        "status": o.status,
        "status_label": o.get_status_display(),
        "notice": o.notice.uuid,
        "name": o.name,
        "phone": o.phone,
        "email": o.email,
        "content": o.content,
        "evidence_sha256": o.evidence_sha256,
        "answer": o.answer,
        "answered_by": str(o.answered_by) if o.answered_by_id else None,
        "answered_at": o.answered_at,
        "created_at": o.created_at,
    }


def _objections(request: HttpRequest) -> QuerySet[Objection]:
    if not notices.can_see_contact(request.user):
        raise PermissionDeniedError("异议人的联系方式和异议材料仅省质量强省办可以查看。")
    return notices.objections_for_user(request.user).select_related("answered_by")


def get_objection(request: HttpRequest, value: str) -> Objection:
    wanted = compact_number(value, label="异议编号")
    objection = _objections(request).filter(number=wanted).first()
    if objection is None:
        raise NotFoundError("没有该编号的异议。")
    return objection


@router.get("/objections", response=ObjectionPage, summary="异议列表，含异议人联系方式（省质量强省办）")
def list_objections(request: HttpRequest, filters: Query[ObjectionFilters]):
    qs = _objections(request)
    if filters.notice:
        qs = qs.filter(notice__uuid=filters.notice)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.application:
        qs = qs.filter(application__number=compact_number(filters.application))
    return page(qs, filters, objection_out)


@router.get(
    "/objections/{number}/details",
    response=ObjectionOut,
    summary="异议详情，含异议人联系方式和调查结论（省质量强省办）",
)
def get_objection_details(request: HttpRequest, number: PublicNumber):
    return objection_out(get_objection(request, number))


@router.get(
    "/objections/{number}/evidence",
    response={200: None},
    summary="下载异议的证明材料（省质量强省办）",
    openapi_extra=file_openapi("application/octet-stream", "证明材料（PDF、JPEG 或 PNG）"),
)
def objection_evidence(request: HttpRequest, number: PublicNumber):
    objection = get_objection(request, number)
    if not objection.evidence:
        raise NotFoundError("该异议没有证明材料。")
    try:
        handle = objection.evidence.open("rb")
    except FileNotFoundError as exc:
        raise NotFoundError("证明材料文件已不存在。") from exc
    name = objection.evidence.name.rsplit("/", 1)[-1]
    response = FileResponse(handle, as_attachment=True, filename=name)
    response["X-Content-Type-Options"] = "nosniff"
    return response


@router.post(
    "/objections/{number}/answer",
    response=ObjectionOut,
    summary="答复异议：upheld（成立，该品牌不予通过）或 dismissed（不成立），须说明理由",
)
def answer_objection(request: HttpRequest, number: PublicNumber, payload: ObjectionAnswerIn):
    objection = get_objection(request, number)
    notices.objection_answer(
        actor=request.user, objection=objection, outcome=payload.outcome, answer=payload.answer
    )
    return objection_out(get_objection(request, number))
