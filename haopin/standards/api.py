"""API: the standards catalogue and the rule sets (评价细则) with their indicators, veto items and
eligibility criteria, including the ``.xlsx`` round trip.

Thin, as DESIGN.md asks: reads go through ``standards.policies`` (drafts are the office's; an
invisible rule set is a 404), writes through ``standards.services`` and ``standards.excel``
(which refuse anyone but the office's writing members with a 403, and any change to a published
rule set with a 409). Items are named by their code within the rule set, never by a row id.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Prefetch, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from ninja import File, Query, Router, Status, UploadedFile

from haopin.core.errors import NotFoundError, ValidationFailed
from haopin.core.http import content_disposition
from haopin.core.policies import get_visible
from haopin.registry.api import reference
from haopin.registry.validation import normalise_standard_code
from haopin.standards import excel, policies, services
from haopin.standards.defaults import fill_rule_set
from haopin.standards.models import Criterion, Indicator, RuleSet, Standard, VetoItem
from haopin.standards.schemas import (
    ActionName,
    CriterionIn,
    CriterionPatch,
    IndicatorIn,
    IndicatorPatch,
    ItemCode,
    RuleSetCreate,
    RuleSetDetail,
    RuleSetFilters,
    RuleSetPage,
    RuleSetPatch,
    StandardCode,
    StandardCreate,
    StandardFilters,
    StandardOut,
    StandardPage,
    StandardPatch,
    VetoItemIn,
    VetoItemPatch,
)

router = Router(tags=["standards"])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# --- shared by the evaluation and certificates APIs ------------------------------------------------


def page(qs: QuerySet, filters: Any, serialise: Any) -> dict[str, Any]:
    items = qs[filters.offset : filters.offset + filters.limit]
    return {
        "count": qs.count(),
        "limit": filters.limit,
        "offset": filters.offset,
        "items": [serialise(obj) for obj in items],
    }


def as_float(value: Decimal | None) -> float | None:
    """Scores and thresholds as JSON numbers (12.5, not "12.5")."""
    return None if value is None else float(value)


def code_name(obj: Any) -> dict[str, str] | None:
    return None if obj is None else {"code": obj.code, "name": obj.name}


def file_response(content: bytes, name: str, content_type: str = XLSX) -> HttpResponse:
    """A download with an ASCII fallback name and the real (Chinese) one (RFC 5987/6266)."""
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = content_disposition(name)
    response["X-Content-Type-Options"] = "nosniff"
    return response


def file_openapi(content_type: str = XLSX, description: str = "Excel 文件") -> dict[str, Any]:
    """OpenAPI for an endpoint that answers with a file rather than JSON."""
    return {
        "responses": {
            200: {
                "description": description,
                "content": {content_type: {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    }


def malformed_upload(request: HttpRequest, exc: Any) -> HttpResponse:
    """A body announced as multipart/form-data that cannot be parsed (no boundary, truncated,
    too many parts) is the client's mistake: a 400 in the error shape, not a 500. Registered
    on the NinjaAPI with the routers of the endpoints that take uploads."""
    from haopin.config.api import error_response, prefers_english

    message = (
        "The body is not valid multipart/form-data (uploads need multipart/form-data with a boundary)."
        if prefers_english()
        else "请求体不是有效的 multipart/form-data（上传文件须使用带 boundary 的 multipart/form-data）。"
    )
    return error_response(request, 400, "malformed_multipart", message, {"body": str(exc)[:200]})


def action_out(name: str, move: Any) -> dict[str, Any]:
    return {"action": name, "label": move.label, "needs": list(move.needs), "style": move.style}


# --- the catalogue --------------------------------------------------------------------------------


def standard_out(s: Standard) -> dict[str, Any]:
    return {
        "uuid": s.uuid,
        "code": s.code,
        "title": s.title,
        "title_en": s.title_en,
        "level": s.level,
        "level_label": s.get_level_display(),
        "status": s.status,
        "status_label": s.get_status_display(),
        "issuer": s.issuer,
        "published_on": s.published_on,
        "effective_on": s.effective_on,
        "withdrawn_on": s.withdrawn_on,
        "replaced_by": s.replaced_by.code if s.replaced_by is not None else None,
        "categories": [code_name(c) for c in s.categories.all()],
        "is_haopin": s.is_haopin,
        "has_file": bool(s.file),
        "created_at": s.created_at,
        "updated_at": s.updated_at,
    }


def _standards(request: HttpRequest) -> QuerySet[Standard]:
    return (
        policies.standards_for_user(request.user).select_related("replaced_by").prefetch_related("categories")
    )


def _normalised_code(code: str) -> str:
    try:
        return normalise_standard_code(code)
    except ValidationError:
        return code.strip()


def _standard(request: HttpRequest, code: str) -> Standard:
    return get_visible(_standards(request), code=_normalised_code(code))  # type: ignore[return-value]


def _replacement(code: str | None) -> Standard | None:
    if code is None:
        return None
    found = Standard.objects.filter(code=_normalised_code(code)).first()
    if found is None:
        message = f"代替标准“{code}”不在目录中。"
        raise ValidationFailed(message, details={"replaced_by": message})
    return found


def _categories(codes: list[str]) -> list[Any]:
    return [reference("category", code) for code in dict.fromkeys(codes)]


@router.get(
    "/standards", response=StandardPage, summary="标准目录（筛选：层级、状态、类别、好品山东团体标准）"
)
def list_standards(request: HttpRequest, filters: Query[StandardFilters]):
    qs = _standards(request)
    if filters.level:
        qs = qs.filter(level=filters.level)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.category:
        prefix = reference("category", filters.category).code
        qs = qs.filter(
            pk__in=Standard.categories.through.objects.filter(category__code__startswith=prefix).values(
                "standard_id"
            )
        )
    if filters.haopin is not None:
        qs = qs.filter(is_haopin=filters.haopin)
    if filters.q and filters.q.strip():
        term = filters.q.strip()
        qs = qs.filter(Q(code__icontains=term) | Q(title__icontains=term))
    return page(qs, filters, standard_out)


@router.post("/standards", response={201: StandardOut}, summary="登记标准（省质量强省办）")
def create_standard(request: HttpRequest, payload: StandardCreate):
    values = payload.model_dump(exclude={"code", "title", "categories", "replaced_by"})
    values["replaced_by"] = _replacement(payload.replaced_by)
    standard = services.standard_create(
        actor=request.user,
        code=payload.code,
        title=payload.title,
        categories=_categories(payload.categories),
        **values,
    )
    return Status(201, standard_out(_standard(request, standard.code)))


@router.get("/standards/{path:code}", response=StandardOut, summary="按标准编号查看（如 GB/T 19001-2016）")
def get_standard(request: HttpRequest, code: StandardCode):
    return standard_out(_standard(request, code))


@router.patch("/standards/{path:code}", response=StandardOut, summary="修改标准（只传要改的字段）")
def patch_standard(request: HttpRequest, code: StandardCode, payload: StandardPatch):
    standard = _standard(request, code)
    values = payload.model_dump(exclude_unset=True)
    categories = _categories(values.pop("categories")) if "categories" in values else None
    if "replaced_by" in values:
        values["replaced_by"] = _replacement(values["replaced_by"])
    services.standard_update(actor=request.user, standard=standard, categories=categories, **values)
    return standard_out(_standard(request, standard.code))


# --- rule sets ------------------------------------------------------------------------------------


def rule_set_ref(r: RuleSet | None) -> dict[str, Any] | None:
    if r is None:
        return None
    return {"uuid": r.uuid, "title": r.title, "version": r.version, "status": r.status}


def rule_set_out(r: RuleSet) -> dict[str, Any]:
    return {
        "uuid": r.uuid,
        "title": r.title,
        "category": code_name(r.category),
        "brand_type": code_name(r.brand_type),
        "version": r.version,
        "status": r.status,
        "status_label": r.get_status_display(),
        "pass_line": as_float(r.pass_line),
        "note": r.note,
        "based_on": rule_set_ref(r.based_on),
        "published_at": r.published_at,
        "created_at": r.created_at,
        "updated_at": r.updated_at,
    }


def _indicator_leaf(i: Indicator) -> dict[str, Any]:
    return {
        "code": i.code,
        "name": i.name,
        "max_score": as_float(i.max_score),
        "guidance": i.guidance,
        "position": i.position,
    }


def _criterion_out(c: Criterion) -> dict[str, Any]:
    return {
        "code": c.code,
        "text": c.text,
        "automatic": c.is_automatic,
        "metric": c.metric,
        "metric_label": c.get_metric_display() if c.metric else "",
        "operator": c.operator,
        "operator_label": c.get_operator_display() if c.operator else "",
        "threshold": as_float(c.threshold),
        "group": c.group,
        "position": c.position,
    }


def _veto_out(v: VetoItem) -> dict[str, Any]:
    return {"code": v.code, "text": v.text, "position": v.position}


def _rule_sets(request: HttpRequest) -> QuerySet[RuleSet]:
    return policies.rule_sets_for_user(request.user).select_related("category", "brand_type", "based_on")


def get_rule_set(request: HttpRequest, rule_set_uuid: Any) -> RuleSet:
    """The rule set if the caller may see it (drafts: the office only); otherwise 404."""
    return get_visible(_rule_sets(request), uuid=rule_set_uuid)  # type: ignore[return-value]


def rule_set_detail(request: HttpRequest, rule_set_uuid: Any) -> dict[str, Any]:
    rule_set = (
        _rule_sets(request)
        .prefetch_related(
            Prefetch("indicators", queryset=Indicator.objects.order_by("position", "code")),
            "veto_items",
            "criteria",
        )
        .filter(uuid=rule_set_uuid)
        .first()
    )
    if rule_set is None:
        raise NotFoundError()
    indicators = list(rule_set.indicators.all())
    dimensions = [i for i in indicators if i.parent_id is None]
    return {
        **rule_set_out(rule_set),
        "editable": rule_set.is_editable,
        "problems": services.ruleset_problems(rule_set) if rule_set.is_editable else [],
        "indicators": [
            {
                **_indicator_leaf(d),
                "children": [_indicator_leaf(i) for i in indicators if i.parent_id == d.pk],
            }
            for d in dimensions
        ],
        "veto_items": [_veto_out(v) for v in rule_set.veto_items.all()],
        "criteria": [_criterion_out(c) for c in rule_set.criteria.all()],
    }


@router.get("/rule-sets", response=RuleSetPage, summary="评价细则列表（草稿仅省质量强省办可见）")
def list_rule_sets(request: HttpRequest, filters: Query[RuleSetFilters]):
    qs = _rule_sets(request)
    if filters.category:
        qs = qs.filter(category__code__startswith=reference("category", filters.category).code)
    if filters.brand_type:
        qs = qs.filter(brand_type=reference("brand_type", filters.brand_type))
    if filters.status:
        qs = qs.filter(status=filters.status)
    return page(qs, filters, rule_set_out)


@router.post("/rule-sets", response={201: RuleSetDetail}, summary="新建评价细则草稿（省质量强省办）")
def create_rule_set(request: HttpRequest, payload: RuleSetCreate):
    # One transaction: a draft whose template could not be filled in is not created half-way.
    with transaction.atomic():
        rule_set = services.ruleset_create(
            actor=request.user,
            category=reference("category", payload.category),
            brand_type=reference("brand_type", payload.brand_type),
            title=payload.title,
            pass_line=payload.pass_line,
            note=payload.note,
        )
        if payload.template == "default":
            fill_rule_set(actor=request.user, rule_set=rule_set)
    return Status(201, rule_set_detail(request, rule_set.uuid))


@router.get("/rule-sets/{uuid}", response=RuleSetDetail, summary="评价细则详情：指标树、否决项、资格条件")
def get_rule_set_detail(request: HttpRequest, uuid: uuid.UUID):
    return rule_set_detail(request, uuid)


@router.patch("/rule-sets/{uuid}", response=RuleSetDetail, summary="修改草稿的名称、合格分数线或说明")
def patch_rule_set(request: HttpRequest, uuid: uuid.UUID, payload: RuleSetPatch):
    rule_set = get_rule_set(request, uuid)
    services.ruleset_update(actor=request.user, rule_set=rule_set, **payload.model_dump(exclude_unset=True))
    return rule_set_detail(request, uuid)


RULE_SET_ACTIONS = {"publish": services.ruleset_publish, "retire": services.ruleset_retire}


@router.post(
    "/rule-sets/{uuid}/actions/{action}",
    response=RuleSetDetail,
    summary="发布（publish）或停用（retire）评价细则",
    description="发布前检查细则是否完整（一级指标合计 100 分、二级指标合计等于一级指标等），"
    "不完整时返回 422，details.problems 列出全部问题。发布后不可修改；停用后新批次不能再选用。",
)
def rule_set_action(request: HttpRequest, uuid: uuid.UUID, action: ActionName):
    service = RULE_SET_ACTIONS.get(action)
    if service is None:
        message = f"未知的操作“{action[:20]}”，可选：publish、retire。"
        raise ValidationFailed(message, code="unknown_action", details={"action": message})
    rule_set = get_rule_set(request, uuid)
    service(actor=request.user, rule_set=rule_set)
    return rule_set_detail(request, uuid)


@router.post(
    "/rule-sets/{uuid}/versions",
    response={201: RuleSetDetail},
    summary="以已发布（或停用）的细则为基础创建新版本草稿",
)
def new_rule_set_version(request: HttpRequest, uuid: uuid.UUID):
    rule_set = get_rule_set(request, uuid)
    draft = services.ruleset_new_version(actor=request.user, rule_set=rule_set)
    return Status(201, rule_set_detail(request, draft.uuid))


@router.get(
    "/rule-sets/{uuid}/xlsx",
    response={200: None},
    summary="导出评价细则（.xlsx：细则、指标、否决项、资格条件四个工作表）",
    openapi_extra=file_openapi(),
)
def export_rule_set(request: HttpRequest, uuid: uuid.UUID):
    rule_set = get_rule_set(request, uuid)
    name = f"评价细则-{rule_set.category.name}-{rule_set.brand_type.name}-第{rule_set.version}版.xlsx"
    return file_response(excel.export(rule_set), name)


@router.post(
    "/rule-sets/{uuid}/xlsx",
    response=RuleSetDetail,
    summary="从 .xlsx 导入草稿的全部条目（全部替换，有错则不做任何修改）",
    description="multipart/form-data，字段 file。有错误时返回 422，details.errors 列出每一处"
    "（工作表、行、列、说明）。",
)
def import_rule_set(request: HttpRequest, uuid: uuid.UUID, file: File[UploadedFile]):
    rule_set = get_rule_set(request, uuid)
    excel.ruleset_import(actor=request.user, rule_set=rule_set, upload=file)
    return rule_set_detail(request, uuid)


# --- items: indicators, veto items, criteria ------------------------------------------------------


def _item(rule_set: RuleSet, kind: str, code: str) -> Any:
    model = services.ITEM_MODELS[kind]
    item = model._default_manager.select_related("rule_set").filter(rule_set=rule_set, code=code).first()
    if item is None:
        labels = {"indicator": "指标", "veto": "否决项", "criterion": "资格条件"}
        raise NotFoundError(f"本细则没有编号为“{code[:20]}”的{labels[kind]}。")
    return item


def _parent(rule_set: RuleSet, code: str | None) -> Indicator | None:
    if code is None:
        return None
    parent = rule_set.indicators.filter(code=code).first()
    if parent is None:
        message = f"本细则没有编号为“{code}”的指标。"
        raise ValidationFailed(message, details={"parent": message})
    return parent


@router.post(
    "/rule-sets/{uuid}/indicators",
    response={201: RuleSetDetail},
    summary="新增指标（一级维度，或以 parent 指定所属维度的二级指标）",
)
def add_indicator(request: HttpRequest, uuid: uuid.UUID, payload: IndicatorIn):
    rule_set = get_rule_set(request, uuid)
    values = payload.model_dump(exclude={"parent"})
    services.ruleset_item_add(
        actor=request.user,
        rule_set=rule_set,
        kind="indicator",
        parent=_parent(rule_set, payload.parent),
        **values,
    )
    return Status(201, rule_set_detail(request, uuid))


@router.patch("/rule-sets/{uuid}/indicators/{code}", response=RuleSetDetail, summary="修改指标")
def patch_indicator(request: HttpRequest, uuid: uuid.UUID, code: ItemCode, payload: IndicatorPatch):
    rule_set = get_rule_set(request, uuid)
    item = _item(rule_set, "indicator", code)
    services.ruleset_item_update(actor=request.user, item=item, **payload.model_dump(exclude_unset=True))
    return rule_set_detail(request, uuid)


@router.delete(
    "/rule-sets/{uuid}/indicators/{code}",
    response={204: None},
    summary="删除指标（一级指标连同其二级指标）",
)
def delete_indicator(request: HttpRequest, uuid: uuid.UUID, code: ItemCode):
    rule_set = get_rule_set(request, uuid)
    services.ruleset_item_remove(actor=request.user, item=_item(rule_set, "indicator", code))
    return Status(204, None)


@router.post("/rule-sets/{uuid}/veto-items", response={201: RuleSetDetail}, summary="新增否决项")
def add_veto_item(request: HttpRequest, uuid: uuid.UUID, payload: VetoItemIn):
    rule_set = get_rule_set(request, uuid)
    services.ruleset_item_add(actor=request.user, rule_set=rule_set, kind="veto", **payload.model_dump())
    return Status(201, rule_set_detail(request, uuid))


@router.patch("/rule-sets/{uuid}/veto-items/{code}", response=RuleSetDetail, summary="修改否决项")
def patch_veto_item(request: HttpRequest, uuid: uuid.UUID, code: ItemCode, payload: VetoItemPatch):
    rule_set = get_rule_set(request, uuid)
    item = _item(rule_set, "veto", code)
    services.ruleset_item_update(actor=request.user, item=item, **payload.model_dump(exclude_unset=True))
    return rule_set_detail(request, uuid)


@router.delete("/rule-sets/{uuid}/veto-items/{code}", response={204: None}, summary="删除否决项")
def delete_veto_item(request: HttpRequest, uuid: uuid.UUID, code: ItemCode):
    rule_set = get_rule_set(request, uuid)
    services.ruleset_item_remove(actor=request.user, item=_item(rule_set, "veto", code))
    return Status(204, None)


@router.post(
    "/rule-sets/{uuid}/criteria",
    response={201: RuleSetDetail},
    summary="新增资格条件（填 metric、operator、threshold 则按申报数据自动判定）",
)
def add_criterion(request: HttpRequest, uuid: uuid.UUID, payload: CriterionIn):
    rule_set = get_rule_set(request, uuid)
    services.ruleset_item_add(actor=request.user, rule_set=rule_set, kind="criterion", **payload.model_dump())
    return Status(201, rule_set_detail(request, uuid))


@router.patch("/rule-sets/{uuid}/criteria/{code}", response=RuleSetDetail, summary="修改资格条件")
def patch_criterion(request: HttpRequest, uuid: uuid.UUID, code: ItemCode, payload: CriterionPatch):
    rule_set = get_rule_set(request, uuid)
    item = _item(rule_set, "criterion", code)
    services.ruleset_item_update(actor=request.user, item=item, **payload.model_dump(exclude_unset=True))
    return rule_set_detail(request, uuid)


@router.delete("/rule-sets/{uuid}/criteria/{code}", response={204: None}, summary="删除资格条件")
def delete_criterion(request: HttpRequest, uuid: uuid.UUID, code: ItemCode):
    rule_set = get_rule_set(request, uuid)
    services.ruleset_item_remove(actor=request.user, item=_item(rule_set, "criterion", code))
    return Status(204, None)
