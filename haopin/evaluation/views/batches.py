"""The office's workspace pages of batches: the batch and its moves, its rule sets and quotas,
the expert draw per rule set, the panels' progress, the aggregation, the ranking per category
with the quota-tie decisions, one application's scoring sheet and the Excel exports; the batch's
public notice and the objections against its candidates.

Everyone signed in may open a batch that has opened (what it is, when, under which rules, and
the applications they can see); the review itself — draws, panels, scores, rankings — is the
office's (``policies.is_office_reader``), and only its writing members act
(``policies.is_office``, asked again by every service). Objections carry private contact details:
the office alone sees them (``notices.can_see_contact``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Q, QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from haopin.core import selectors as core_selectors
from haopin.core.errors import ConflictError, NotFoundError, ValidationFailed
from haopin.core.http import HtmxHttpRequest, content_disposition
from haopin.core.listing import Column, Filter, Listing
from haopin.core.models import Region
from haopin.core.policies import ScopeKind, deny_unless, get_visible, scope_of
from haopin.core.workflow import available
from haopin.core.workspace import NavItem
from haopin.evaluation import experts, exports, notices, policies, scoring, selectors, services
from haopin.evaluation.forms_office import (
    BatchForm,
    DrawForm,
    ObjectionAnswerForm,
    QuotaDecisionForm,
    QuotaForm,
    RuleSetAttachForm,
)
from haopin.evaluation.models import Application, Assignment, Batch, BatchRuleSet, Objection, PanelDraw, Quota
from haopin.evaluation.workflow import BATCH_TRANSITIONS
from haopin.notifications import links
from haopin.registry.forms import dry_run, show_error

S = Application.Status
B = Batch.Status
HISTORY_LIMIT = 50
PAGE_SIZE = 50
SEATS_PAGE_SIZE = 100
RANKING_PAGE_SIZE = 100
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
REVIEW_STARTED = {B.REVIEWING, B.NOTICE, B.PUBLISHED, B.CLOSED}
# Statuses of applications whose expert review is over (scored), in the procedure's order.
AFTER_REVIEW = [S.REVIEWED, S.CONSULTED, S.APPROVED, S.NOTICE, S.PUBLISHED]
MOVE_CONFIRM = {
    "open": "开始申报后，年度、批次、申报时间和评审参数不能再修改（评价细则和名额仍可调整）。确定开始申报？",
    "close_applications": "截止申报后不再受理新的申报和提交，批次进入评审。确定截止申报？",
    "open_notice": "将发布拟入选名单公示，全部待公示的申报进入公示期。确定发布公示？",
    "publish": "将发布评价结果：公示中的品牌入选并颁发证书。此操作不能撤销。确定发布？",
    "close": "结束后批次归档，不能再作任何调整。确定结束批次？",
}


def nav_batches(user: Any) -> bool:
    return policies.is_office_reader(user) or scope_of(user).kind != ScopeKind.NONE


# Menu entries, registered in EvaluationConfig.ready.
NAV = [
    NavItem("评价管理", "评价批次", "evaluation:batch-list", nav_batches, order=10),
    NavItem("评价管理", "公示异议", "evaluation:objection-list", notices.can_see_contact, order=40),
]


# --- helpers -----------------------------------------------------------------------------------------


def _office_reader(request: HttpRequest) -> None:
    deny_unless(policies.is_office_reader(request.user), "专家抽取、评分和排名仅供省质量强省办查看。")


def _office(request: HttpRequest) -> None:
    deny_unless(policies.is_office(request.user), "只有省质量强省办的工作人员可以执行此操作。")


def _batch(request: HttpRequest, uuid: Any) -> Batch:
    return selectors.batch_get_for_user(request.user, uuid)


def _link(batch: Batch, rule_set_uuid: Any) -> BatchRuleSet:
    link = (
        BatchRuleSet.objects.select_related("rule_set__category", "rule_set__brand_type")
        .filter(batch=batch, rule_set__uuid=rule_set_uuid)
        .first()
    )
    if link is None:
        raise NotFoundError("本批次未选用该评价细则。")
    return link


def _application(batch: Batch, uuid: Any) -> Application:
    found = (
        Application.objects.select_related("brand", "enterprise__region__parent", "rule_set", "batch")
        .filter(batch=batch, uuid=uuid)
        .first()
    )
    if found is None:
        raise NotFoundError("本批次没有该申报。")
    return found


def batch_code(batch: Batch) -> str:
    """The application list's batch filter value (``applications.ApplicationListing``)."""
    return f"{batch.year}-{batch.sequence}"


def application_list_url(batch: Batch, status: str = "") -> str:
    query = f"batch={batch_code(batch)}" + (f"&status={status}" if status else "")
    return links.url_for("evaluation:application-list", query=query)


def city_name(application: Application) -> str:
    region = application.enterprise.region
    if region.level == Region.Level.COUNTY and region.parent_id:
        assert region.parent is not None  # parent_id is set
        return region.parent.name
    return region.name


def crumbs(batch: Batch | None = None, *tail: tuple[str, str]) -> list[tuple[str, str]]:
    trail = [("评价批次", reverse("evaluation:batch-list"))]
    if batch is not None:
        trail.append((batch.title, batch.get_absolute_url()))
    return [*trail, *tail]


def _history(obj: Any) -> list[Any]:
    return list(core_selectors.history_for(obj)[:HISTORY_LIMIT])


def _xlsx(content: bytes, name: str) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = content_disposition(name)
    return response


def _refused(request: HttpRequest, error: ValidationFailed | ConflictError) -> None:
    messages.error(request, error.message)


# --- the list ------------------------------------------------------------------------------------


class BatchListing(Listing):
    title = "评价批次"
    columns = [
        Column("title", "名称", sort="title", link=True, width=34),
        Column("year", "年度", sort="year", width=8),
        Column(
            "sequence",
            "批次",
            sort="sequence",
            value=lambda b: f"第{notices.cn_numeral(b.sequence)}批",
            width=8,
        ),
        Column("status", "状态", sort="status", value=lambda b: b.get_status_display(), width=10),
        Column("apply_from", "申报开始", sort="apply_from", width=14),
        Column("apply_until", "申报截止", sort="apply_until", width=14),
        Column("application_count", "申报数", sort="application_count", width=8),
        Column("published_at", "结果发布", sort="published_at", width=20),
    ]
    filters = [
        Filter.lookup("status", "状态", "status", lambda request: Batch.Status.choices),
        Filter(
            "year",
            "年度",
            lambda request: [(str(y), f"{y}年") for y in range(timezone.localdate().year + 1, 2020, -1)],
            lambda qs, value: qs.filter(year=int(value)),
        ),
    ]
    search_fields = ["title"]
    search_placeholder = "搜索批次名称"
    default_sort = "-year"
    export_name = "评价批次"

    def __init__(self, request: HttpRequest, **context: Any):
        super().__init__(request, **context)
        self.actions = (
            [("新建批次", reverse("evaluation:batch-create"))] if policies.is_office(request.user) else []
        )

    def queryset(self) -> QuerySet[Batch]:
        return selectors.batch_list_for_user(self.request.user)

    def filtered(self) -> QuerySet[Batch]:
        qs = super().filtered()
        if self.sort_key() == self.default_sort:
            qs = qs.order_by("-year", "-sequence", "pk")
        return qs


@login_required
@require_GET
def batch_list(request: HttpRequest) -> HttpResponse | FileResponse:
    return BatchListing(request).response()


# --- create and edit --------------------------------------------------------------------------------


def _form_page(
    request: HtmxHttpRequest,
    form: forms.BaseForm,
    *,
    title: str,
    submit: Callable[[Any], Any],
    done: Callable[[Any], HttpResponse],
    cancel_url: str,
    trail: list[tuple[str, str]],
    submit_label: str = "保存",
    intro: str = "",
) -> HttpResponse:
    """Show ``form``; on POST call the service; an htmx ``_validate`` request is a dry run."""
    status = 200
    checking = request.method == "POST" and bool(request.htmx) and request.POST.get("_validate") == "1"
    if request.method == "POST":
        if form.is_valid():
            try:
                if checking:
                    dry_run(lambda: submit(form))
                else:
                    return done(submit(form))
            except (ValidationFailed, ConflictError) as exc:
                show_error(form, exc)
                status = exc.status
        else:
            status = 422
    context = {
        "title": title,
        "form": form,
        "cancel_url": cancel_url,
        "submit_label": submit_label,
        "validate_url": request.path,
        "intro": intro,
        "crumbs": trail,
    }
    template = "evaluation/batch_form.html#form" if checking else "evaluation/batch_form.html"
    return render(request, template, context, status=200 if checking else status)


@login_required
@require_http_methods(["GET", "POST"])
def batch_create(request: HtmxHttpRequest) -> HttpResponse:
    _office(request)
    today = timezone.localdate()
    form = BatchForm(request.POST or None, initial={"year": today.year})

    def submit(form: BatchForm) -> Batch:
        values = form.service_values()
        return services.batch_create(
            actor=request.user,
            year=values.pop("year"),
            sequence=values.pop("sequence"),
            title=values.pop("title"),
            apply_from=values.pop("apply_from"),
            apply_until=values.pop("apply_until"),
            **values,
        )

    def done(batch: Batch) -> HttpResponse:
        messages.success(request, f"已创建“{batch.title}”（草稿）。请选用评价细则，然后开始申报。")
        return redirect(batch.get_absolute_url())

    return _form_page(
        request,
        form,
        title="新建评价批次",
        submit=submit,
        done=done,
        cancel_url=reverse("evaluation:batch-list"),
        submit_label="创建",
        trail=crumbs(None, ("新建评价批次", "")),
        intro="新批次为草稿；选用评价细则后即可开始申报。开始申报后，只能调整推荐、评审截止日期和公示期。",
    )


@login_required
@require_http_methods(["GET", "POST"])
def batch_edit(request: HtmxHttpRequest, uuid: Any) -> HttpResponse:
    batch = _batch(request, uuid)
    _office(request)
    if batch.status not in {B.DRAFT, B.OPEN, B.REVIEWING}:
        raise ConflictError(f"批次{batch.get_status_display()}，不能修改。", code="batch_frozen")
    form = BatchForm(request.POST or None, instance=batch)

    def done(batch: Batch) -> HttpResponse:
        messages.success(request, "批次信息已保存。")
        return redirect(batch.get_absolute_url())

    return _form_page(
        request,
        form,
        title=f"修改批次：{batch.title}",
        submit=lambda form: services.batch_update(actor=request.user, batch=batch, **form.service_values()),
        done=done,
        cancel_url=batch.get_absolute_url(),
        trail=crumbs(batch, ("修改", "")),
    )


# --- the batch's page ----------------------------------------------------------------------------------


def _status_counts(request: HttpRequest, batch: Batch) -> list[dict[str, Any]]:
    counts = selectors.application_status_counts(request.user, batch=batch)
    return [
        {
            "status": status,
            "label": label,
            "count": counts[status],
            "url": application_list_url(batch, status),
        }
        for status, label in S.choices
        if counts[status]
    ]


def _rule_set_rows(batch: Batch, office: bool) -> list[dict[str, Any]]:
    counts = selectors.batch_rule_set_counts(batch) if office else {}
    rows = []
    for link in selectors.batch_rule_sets(batch):
        per_status = counts.get(link.rule_set_id, {})
        rows.append(
            {
                "rule_set": link.rule_set,
                "total": sum(per_status.values()),
                "waiting": per_status.get(S.CHECKED, 0),
                "in_review": per_status.get(S.EXPERT_REVIEW, 0),
                "reviewed": sum(per_status.get(s, 0) for s in AFTER_REVIEW),
            }
        )
    return rows


def batch_context(
    request: HttpRequest, batch: Batch, *, attach_form: Any = None, quota_form: Any = None
) -> dict[str, Any]:
    user = request.user
    office_reader = policies.is_office_reader(user)
    office = policies.is_office(user)
    moves = [
        {"action": name, "label": move.label, "confirm": MOVE_CONFIRM.get(name, "")}
        for name, move in available(BATCH_TRANSITIONS, batch, user)
    ]
    notice = getattr(batch, "notice", None) if batch.status in REVIEW_STARTED else None
    rules_open = office and batch.status in {B.DRAFT, B.OPEN}
    quotas_open = office and batch.status in {B.DRAFT, B.OPEN, B.REVIEWING}
    undecided = (
        selectors.undecided_applications(batch) if office_reader and batch.status == B.REVIEWING else []
    )
    status_counts = _status_counts(request, batch)
    context: dict[str, Any] = {
        "batch": batch,
        "sequence_cn": notices.cn_numeral(batch.sequence),
        "crumbs": crumbs(batch),
        "moves": moves,
        "can_edit": office and batch.status in {B.DRAFT, B.OPEN, B.REVIEWING},
        "office_reader": office_reader,
        "office": office,
        "status_counts": status_counts,
        "total_count": sum(row["count"] for row in status_counts),
        "all_url": application_list_url(batch),
        "rule_sets": _rule_set_rows(batch, office_reader),
        "review_started": batch.status in REVIEW_STARTED,
        "rules_open": rules_open,
        "attach_form": attach_form or (RuleSetAttachForm(batch=batch) if rules_open else None),
        "quotas": list(selectors.batch_quotas(batch)),
        "quotas_open": quotas_open,
        "quota_form": quota_form or (QuotaForm() if quotas_open else None),
        "undecided": undecided[:50],
        "undecided_count": len(undecided),
        "notice": notice,
        "unresolved": notices.notice_unresolved(batch) if office_reader and batch.status == B.NOTICE else [],
        "history": _history(batch) if office_reader else [],
    }
    return context


@login_required
@require_GET
def batch_detail(request: HttpRequest, uuid: Any) -> HttpResponse:
    batch = _batch(request, uuid)
    return render(request, "evaluation/batch_detail.html", batch_context(request, batch))


@login_required
@require_POST
def batch_move(request: HttpRequest, uuid: Any, action: str) -> HttpResponse:
    """Take one move of the batch table; a refusal is shown on the batch's page as it is."""
    batch = _batch(request, uuid)
    if action not in BATCH_TRANSITIONS:
        raise Http404
    label = BATCH_TRANSITIONS[action].label
    try:
        services.batch_move(actor=request.user, batch=batch, action=action)
    except (ValidationFailed, ConflictError) as exc:
        _refused(request, exc)
    else:
        messages.success(request, f"已{label}：批次当前为“{batch.get_status_display()}”。")
    return redirect(batch.get_absolute_url())


@login_required
@require_POST
def batch_rule_set_attach(request: HttpRequest, uuid: Any) -> HttpResponse:
    batch = _batch(request, uuid)
    _office(request)
    form = RuleSetAttachForm(request.POST, batch=batch)
    if form.is_valid():
        rule_set = form.cleaned_data["rule_set"]
        try:
            services.batch_rule_set_attach(actor=request.user, batch=batch, rule_set=rule_set)
        except (ValidationFailed, ConflictError) as exc:
            show_error(form, exc)
        else:
            messages.success(request, f"已选用“{rule_set}”。")
            return redirect(batch.get_absolute_url() + "#rule-sets")
    context = batch_context(request, batch, attach_form=form)
    return render(request, "evaluation/batch_detail.html", context, status=422)


@login_required
@require_POST
def batch_rule_set_detach(request: HttpRequest, uuid: Any, rule_set: Any) -> HttpResponse:
    batch = _batch(request, uuid)
    _office(request)
    link = _link(batch, rule_set)
    try:
        services.batch_rule_set_detach(actor=request.user, batch=batch, rule_set=link.rule_set)
    except (ValidationFailed, ConflictError) as exc:
        _refused(request, exc)
    else:
        messages.success(request, f"已移除“{link.rule_set}”。")
    return redirect(batch.get_absolute_url() + "#rule-sets")


@login_required
@require_POST
def batch_quota_set(request: HttpRequest, uuid: Any) -> HttpResponse:
    batch = _batch(request, uuid)
    _office(request)
    form = QuotaForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            quota = services.batch_quota_set(
                actor=request.user,
                batch=batch,
                limit=data["limit"],
                category=data["category"],
                city=data["city"],
            )
        except (ValidationFailed, ConflictError) as exc:
            show_error(form, exc)
        else:
            messages.success(request, f"已设置名额：{quota}。")
            return redirect(batch.get_absolute_url() + "#quotas")
    context = batch_context(request, batch, quota_form=form)
    return render(request, "evaluation/batch_detail.html", context, status=422)


@login_required
@require_POST
def batch_quota_remove(request: HttpRequest, uuid: Any, pk: int) -> HttpResponse:
    batch = _batch(request, uuid)
    _office(request)
    quota = Quota.objects.select_related("batch", "category", "city").filter(batch=batch, pk=pk).first()
    if quota is None:
        raise NotFoundError("该名额不存在，可能已被删除。")
    try:
        services.batch_quota_remove(actor=request.user, quota=quota)
    except (ValidationFailed, ConflictError) as exc:
        _refused(request, exc)
    else:
        messages.success(request, f"已删除名额：{quota}。")
    return redirect(batch.get_absolute_url() + "#quotas")


# --- one rule set's review: the draw, the panels, the aggregation ---------------------------------


def review_context(
    request: HttpRequest, batch: Batch, link: BatchRuleSet, *, draw_form: Any = None
) -> dict[str, Any]:
    rule_set = link.rule_set
    office = policies.is_office(request.user)
    per_status = selectors.batch_rule_set_counts(batch).get(rule_set.pk, {})
    draws = list(
        experts.draws_for_batch(batch)
        .filter(rule_set=rule_set)
        .annotate(application_count=Count("assignments__application", distinct=True))
        .order_by("-created_at")
    )
    progress = Paginator(selectors.panel_progress(batch, rule_set), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    rows = []
    for application in progress.object_list:
        required = application.size or batch.panel_size
        rows.append(
            {
                "application": application,
                "required": required,
                "complete": application.submitted >= required,
                "needs_supplement": application.active < required and not application.standby,
            }
        )
    missing = scoring.incomplete_panels(batch, rule_set) if per_status.get(S.EXPERT_REVIEW) else []
    reviewing = batch.status == B.REVIEWING
    return {
        "batch": batch,
        "rule_set": rule_set,
        "crumbs": crumbs(batch, (f"{rule_set.category.name}·{rule_set.brand_type.name}", "")),
        "office": office,
        "waiting": per_status.get(S.CHECKED, 0),
        "in_review": per_status.get(S.EXPERT_REVIEW, 0),
        "reviewed": sum(per_status.get(s, 0) for s in AFTER_REVIEW),
        "total": sum(per_status.values()),
        "draws": draws,
        "draw_form": draw_form or DrawForm(),
        "can_draw": office and reviewing and per_status.get(S.CHECKED, 0) > 0,
        "can_aggregate": office and reviewing and per_status.get(S.EXPERT_REVIEW, 0) > 0,
        "missing": missing,
        "progress": progress,
        "rows": rows,
        "reviewing": reviewing,
    }


@login_required
@require_GET
def batch_rule_set_review(request: HttpRequest, uuid: Any, rule_set: Any) -> HttpResponse:
    batch = _batch(request, uuid)
    _office_reader(request)
    link = _link(batch, rule_set)
    return render(request, "evaluation/batch_ruleset.html", review_context(request, batch, link))


@login_required
@require_POST
def draw_panels(request: HttpRequest, uuid: Any, rule_set: Any) -> HttpResponse:
    batch = _batch(request, uuid)
    _office_reader(request)
    link = _link(batch, rule_set)
    form = DrawForm(request.POST)
    if form.is_valid():
        try:
            draw = experts.draw_panels(
                actor=request.user, batch=batch, rule_set=link.rule_set, seed=form.seed_value()
            )
        except (ValidationFailed, ConflictError) as exc:
            if "seed" in exc.details:
                show_error(form, exc)
            else:
                _refused(request, exc)
                return redirect(reverse("evaluation:batch-rule-set", args=[batch.uuid, link.rule_set.uuid]))
        else:
            count = draw.assignments.values("application_id").distinct().count()
            note = (
                f"，其中 {len(draw.shortfalls)} 件人数不足，请在专家补充后补充抽取" if draw.shortfalls else ""
            )
            messages.success(request, f"已为 {count} 件申报抽取评审专家（随机种子 {draw.seed}）{note}。")
            return redirect(reverse("evaluation:draw-detail", args=[batch.uuid, draw.uuid]))
    context = review_context(request, batch, link, draw_form=form)
    return render(request, "evaluation/batch_ruleset.html", context, status=422)


@login_required
@require_POST
def draw_supplement(request: HttpRequest, uuid: Any, application: Any) -> HttpResponse:
    batch = _batch(request, uuid)
    _office_reader(request)
    found = _application(batch, application)
    back = reverse("evaluation:batch-rule-set", args=[batch.uuid, found.rule_set.uuid])
    form = DrawForm(request.POST)
    if not form.is_valid():
        messages.error(request, "随机种子不能超过 64 个字符。")
        return redirect(back)
    try:
        draw = experts.draw_supplement(actor=request.user, application=found, seed=form.seed_value())
    except (ValidationFailed, ConflictError) as exc:
        _refused(request, exc)
        return redirect(back)
    if draw.shortfalls:
        messages.warning(
            request,
            f"已为申报 {found.number} 补充抽取（随机种子 {draw.seed}），但符合条件的专家仍然不足，"
            "请补充专家库后再次补充抽取。",
        )
    else:
        messages.success(request, f"已为申报 {found.number} 补充抽取评审专家（随机种子 {draw.seed}）。")
    return redirect(reverse("evaluation:draw-detail", args=[batch.uuid, draw.uuid]))


@login_required
@require_GET
def draw_detail(request: HttpRequest, uuid: Any, draw: Any) -> HttpResponse:
    """The draw as recorded (seed, parameters, exclusions, shortfalls, seats) and, on request,
    the replay check: recomputing it from the seed over the current pool."""
    batch = _batch(request, uuid)
    _office_reader(request)
    found = (
        PanelDraw.objects.select_related("rule_set__category", "rule_set__brand_type", "created_by")
        .filter(batch=batch, uuid=draw)
        .first()
    )
    if found is None:
        raise NotFoundError("该抽取记录不存在。")
    event = core_selectors.history_for(found).filter(action="evaluation.draw.made").first()
    summary = (event.new if event is not None and isinstance(event.new, dict) else {}) or {}
    seats = Paginator(
        Assignment.objects.filter(draw=found)
        .select_related("application__brand", "expert__user", "expert__region")
        .order_by("application__number", "role", "order"),
        SEATS_PAGE_SIZE,
    ).get_page(request.GET.get("page"))
    check = experts.draw_check(found) if request.GET.get("check") == "1" else None
    shortfalls = []
    for entry in found.shortfalls:
        reasons = [f"{experts.REASONS.get(k, k)} {n} 人" for k, n in (entry.get("excluded") or {}).items()]
        shortfalls.append({**entry, "reasons": reasons})
    return render(
        request,
        "evaluation/draw_detail.html",
        {
            "batch": batch,
            "draw": found,
            "crumbs": crumbs(
                batch,
                (
                    f"{found.rule_set.category.name}·{found.rule_set.brand_type.name}",
                    reverse("evaluation:batch-rule-set", args=[batch.uuid, found.rule_set.uuid]),
                ),
                ("抽取记录", ""),
            ),
            "summary": summary,
            "exclusions": [
                (experts.REASONS.get(key, key), count)
                for key, count in (summary.get("exclusions") or {}).items()
            ],
            "check_exclusions": [
                (experts.REASONS.get(key, key), count)
                for key, count in (check.exclusions if check else {}).items()
            ],
            "shortfalls": shortfalls,
            "seats": seats,
            "check": check,
            "supplement_for": summary.get("supplement_for", ""),
        },
    )


@login_required
@require_POST
def batch_aggregate(request: HttpRequest, uuid: Any, rule_set: Any) -> HttpResponse:
    batch = _batch(request, uuid)
    _office_reader(request)
    link = _link(batch, rule_set)
    try:
        result = scoring.aggregate(actor=request.user, batch=batch, rule_set=link.rule_set)
    except (ValidationFailed, ConflictError) as exc:
        _refused(request, exc)
        return redirect(reverse("evaluation:batch-rule-set", args=[batch.uuid, link.rule_set.uuid]))
    parts = [f"已汇总 {result.applications} 件申报的评审结果，{result.passed} 件达到合格分数线"]
    if result.ties:
        parts.append(f"{len(result.ties)} 件名额线同分，待裁定")
    if result.outliers:
        parts.append(f"{len(result.outliers)} 件有离群评分")
    if result.cleared_decisions:
        parts.append("以下申报此前的同分裁定已失效，请重新裁定：" + "、".join(result.cleared_decisions))
    messages.success(request, "；".join(parts) + "。")
    return redirect(reverse("evaluation:ranking", args=[batch.uuid, link.rule_set.uuid]))


# --- the ranking and the scoring sheet ------------------------------------------------------------------


def ranking_context(
    request: HttpRequest,
    batch: Batch,
    link: BatchRuleSet,
    *,
    bound: dict[int, QuotaDecisionForm] | None = None,
) -> dict[str, Any]:
    rule_set = link.rule_set
    office = policies.is_office(request.user)
    ranking = scoring.ranking(batch, rule_set)
    shared = {rank for rank, n in Counter(ranking.values_list("rank", flat=True)).items() if n > 1}
    outliers = scoring.outlier_counts(batch, rule_set)
    page = Paginator(ranking, RANKING_PAGE_SIZE).get_page(request.GET.get("page"))
    bound = bound or {}
    rows = []
    for application in page.object_list:
        undecided = application.quota_tie and application.within_quota is None
        decidable = office and undecided and application.status in (S.REVIEWED, S.CONSULTED)
        rows.append(
            {
                "application": application,
                "city": city_name(application),
                "shared_rank": application.rank in shared,
                "outliers": outliers.get(application.pk, 0),
                "undecided": undecided,
                "form": bound.get(application.pk)
                or (QuotaDecisionForm(prefix=f"q{application.pk}") if decidable else None),
            }
        )
    return {
        "batch": batch,
        "rule_set": rule_set,
        "crumbs": crumbs(
            batch,
            (
                f"{rule_set.category.name}·{rule_set.brand_type.name}",
                reverse("evaluation:batch-rule-set", args=[batch.uuid, rule_set.uuid]),
            ),
            ("排名", ""),
        ),
        "page": page,
        "rows": rows,
        "quotas": [line.label + f" {line.limit} 个" for line in scoring.quota_lines(batch)],
        "outlier_points": scoring.OUTLIER_POINTS,
        "trim_from": scoring.TRIM_FROM,
    }


@login_required
@require_GET
def ranking(request: HttpRequest, uuid: Any, rule_set: Any) -> HttpResponse:
    batch = _batch(request, uuid)
    _office_reader(request)
    link = _link(batch, rule_set)
    if request.GET.get("export") == "xlsx":
        content = exports.ranking_xlsx(actor=request.user, batch=batch, rule_set=link.rule_set)
        name = f"排名-{batch.title}-{link.rule_set.category.name}-{link.rule_set.brand_type.name}.xlsx"
        return _xlsx(content, name)
    return render(request, "evaluation/ranking_detail.html", ranking_context(request, batch, link))


@login_required
@require_GET
def ranking_export(request: HttpRequest, uuid: Any) -> HttpResponse:
    batch = _batch(request, uuid)
    _office_reader(request)
    return _xlsx(exports.ranking_xlsx(actor=request.user, batch=batch), f"排名-{batch.title}.xlsx")


@login_required
@require_POST
def quota_decide(request: HttpRequest, uuid: Any, application: Any) -> HttpResponse:
    batch = _batch(request, uuid)
    _office_reader(request)
    found = _application(batch, application)
    link = _link(batch, found.rule_set.uuid)
    form = QuotaDecisionForm(request.POST, prefix=f"q{found.pk}")
    if form.is_valid():
        try:
            scoring.quota_decide(
                actor=request.user,
                application=found,
                admit=form.cleaned_data["admit"],
                reason=form.cleaned_data["reason"],
            )
        except (ValidationFailed, ConflictError) as exc:
            show_error(form, exc)
        else:
            verdict = "纳入名额" if found.within_quota else "不纳入名额"
            messages.success(request, f"已裁定申报 {found.number}：{verdict}。")
            return redirect(reverse("evaluation:ranking", args=[batch.uuid, link.rule_set.uuid]))
    context = ranking_context(request, batch, link, bound={found.pk: form})
    return render(request, "evaluation/ranking_detail.html", context, status=422)


@login_required
@require_GET
def scoring_sheet(request: HttpRequest, uuid: Any, application: Any) -> HttpResponse:
    batch = _batch(request, uuid)
    _office_reader(request)
    found = _application(batch, application)
    if request.GET.get("export") == "xlsx":
        return _xlsx(
            exports.scoring_sheet_xlsx(actor=request.user, application=found), f"评分表-{found.number}.xlsx"
        )
    sheet = scoring.scoring_sheet(found)
    submitted = [e for e in sheet.experts if e.submitted]
    return render(
        request,
        "evaluation/ranking_sheet.html",
        {
            "batch": batch,
            "application": found,
            "city": city_name(found),
            "sheet": sheet,
            "submitted": submitted,
            "crumbs": crumbs(
                batch,
                (
                    "排名",
                    reverse("evaluation:ranking", args=[batch.uuid, found.rule_set.uuid]),
                ),
                (f"评分表 {found.number}", ""),
            ),
            "outlier_points": scoring.OUTLIER_POINTS,
            "trim_from": scoring.TRIM_FROM,
            "application_url": links.url_of(found),
        },
    )


# --- the public notice in the workspace, and objections ------------------------------------------------


@login_required
@require_GET
def batch_notice(request: HttpRequest, uuid: Any) -> HttpResponse:
    batch = _batch(request, uuid)
    _office_reader(request)
    notice = getattr(batch, "notice", None)
    if notice is None:
        raise NotFoundError("该批次尚未发布公示。")
    candidates = list(
        notices.notice_candidates(notice)
        .select_related("enterprise__region__parent")
        .annotate(
            objection_count=Count("objections", distinct=True),
            open_objections=Count(
                "objections", filter=Q(objections__status=Objection.Status.OPEN), distinct=True
            ),
        )
    )
    today = timezone.localdate()
    return render(
        request,
        "evaluation/notice_detail.html",
        {
            "batch": batch,
            "notice": notice,
            "crumbs": crumbs(batch, ("公示", "")),
            "candidates": candidates,
            "today": today,
            "running": notice.status == notice.Status.OPEN and notice.starts_on <= today <= notice.ends_on,
            "unresolved": notices.notice_unresolved(batch),
            "objections_url": reverse("evaluation:objection-list") + f"?batch={batch_code(batch)}",
            "can_see_objections": notices.can_see_contact(request.user),
            "public_url": reverse("evaluation:public-notice-detail", args=[notice.uuid]),
        },
    )


def _notice_batches(request: HttpRequest) -> list[tuple[str, str]]:
    cache = request.__dict__.setdefault("_objection_memo", {})
    if "batches" not in cache:
        cache["batches"] = [
            (f"{year}-{sequence}", title)
            for year, sequence, title in Batch.objects.filter(notice__isnull=False).values_list(
                "year", "sequence", "title"
            )
        ]
    return cache["batches"]


def _in_batch(qs: QuerySet, value: str) -> QuerySet:
    year, _, sequence = value.partition("-")
    return qs.filter(notice__batch__year=int(year), notice__batch__sequence=int(sequence))


class ObjectionListing(Listing):
    title = "公示异议"
    columns = [
        Column("number", "异议编号", sort="number", link=True, width=16),
        Column(
            "brand",
            "异议对象（品牌）",
            sort="application__brand__name",
            value=lambda o: o.application.brand.name,
            width=20,
        ),
        Column("enterprise", "申报主体", value=lambda o: o.application.enterprise.name, width=30),
        Column(
            "application",
            "申报编号",
            sort="application__number",
            value=lambda o: o.application.number,
            width=16,
        ),
        Column("name", "异议人", sort="name", width=12),
        Column("phone", "联系电话", width=14),
        Column("email", "电子邮箱", width=20),
        Column("status", "状态", sort="status", value=lambda o: o.get_status_display(), width=10),
        Column("created_at", "提出时间", sort="created_at", width=20),
        Column("answered_at", "答复时间", sort="answered_at", width=20),
    ]
    filters = [
        Filter.lookup("status", "状态", "status", lambda request: Objection.Status.choices),
        Filter("batch", "批次", _notice_batches, _in_batch),
    ]
    search_fields = ["number", "name", "phone", "application__brand__name", "application__enterprise__name"]
    search_placeholder = "搜索异议编号、异议人、电话或品牌"
    default_sort = "-created_at"
    export_name = "公示异议"

    def queryset(self) -> QuerySet[Objection]:
        return notices.objections_for_user(self.request.user)


@login_required
@require_GET
def objection_list(request: HttpRequest) -> HttpResponse | FileResponse:
    deny_unless(notices.can_see_contact(request.user), "公示异议含异议人联系方式，仅供省质量强省办查看。")
    return ObjectionListing(request).response()


def _objection(request: HttpRequest, uuid: Any) -> Objection:
    return get_visible(notices.objections_for_user(request.user).select_related("answered_by"), uuid=uuid)  # type: ignore[return-value]


@login_required
@require_http_methods(["GET", "POST"])
def objection_detail(request: HttpRequest, uuid: Any) -> HttpResponse:
    objection = _objection(request, uuid)
    can_answer = policies.is_office(request.user) and objection.status == Objection.Status.OPEN
    form = ObjectionAnswerForm(request.POST or None) if can_answer or request.method == "POST" else None
    status = 200
    if request.method == "POST":
        _office(request)
        status = 422
        assert form is not None
        if form.is_valid():
            try:
                notices.objection_answer(
                    actor=request.user,
                    objection=objection,
                    outcome=form.cleaned_data["outcome"],
                    answer=form.cleaned_data["answer"],
                )
            except (ValidationFailed, ConflictError) as exc:
                show_error(form, exc)
                status = exc.status
            else:
                messages.success(
                    request, f"已答复异议 {objection.number}：{objection.get_status_display()}。"
                )
                return redirect(reverse("evaluation:objection-detail", args=[objection.uuid]))
    application = objection.application
    return render(
        request,
        "evaluation/objection_detail.html",
        {
            "objection": objection,
            "application": application,
            "application_url": links.url_of(application),
            "batch": objection.notice.batch,
            "form": form if can_answer or (form is not None and form.errors) else None,
            "crumbs": [("公示异议", reverse("evaluation:objection-list")), (objection.number, "")],
            "history": _history(objection),
        },
        status=status,
    )


@login_required
@require_GET
def objection_evidence(request: HttpRequest, uuid: Any) -> FileResponse:
    objection = _objection(request, uuid)
    if not objection.evidence:
        raise NotFoundError("该异议没有证明材料。")
    try:
        handle = objection.evidence.open("rb")
    except FileNotFoundError as exc:
        raise NotFoundError("证明材料文件已不存在。") from exc
    extension = objection.evidence.name.rsplit(".", 1)[-1].lower()
    content_type = {"pdf": "application/pdf", "jpg": "image/jpeg", "png": "image/png"}.get(
        extension, "application/octet-stream"
    )
    response = FileResponse(handle, content_type=content_type)
    response["Content-Disposition"] = content_disposition(f"异议{objection.number}证明材料.{extension}")
    response["X-Content-Type-Options"] = "nosniff"
    # Anyone may upload evidence: it is never a page of ours.
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


# --- URLs (included by evaluation/urls.py) ----------------------------------------------------------

ROOT = "workspace/evaluation/batches/"
ONE = ROOT + "<uuid:uuid>/"
RULES = ONE + "rule-sets/<uuid:rule_set>/"
OBJECTIONS = "workspace/evaluation/objections/"

urlpatterns = [
    path(ROOT, batch_list, name="batch-list"),
    path(ROOT + "new/", batch_create, name="batch-create"),
    path(ONE, batch_detail, name="batch-detail"),
    path(ONE + "edit/", batch_edit, name="batch-edit"),
    path(ONE + "actions/<str:action>/", batch_move, name="batch-move"),
    path(ONE + "rule-sets/", batch_rule_set_attach, name="batch-rule-set-attach"),
    path(RULES, batch_rule_set_review, name="batch-rule-set"),
    path(RULES + "remove/", batch_rule_set_detach, name="batch-rule-set-detach"),
    path(RULES + "draw/", draw_panels, name="draw-panels"),
    path(RULES + "aggregate/", batch_aggregate, name="batch-aggregate"),
    path(RULES + "ranking/", ranking, name="ranking"),
    path(ONE + "ranking/export/", ranking_export, name="ranking-export"),
    path(ONE + "quotas/", batch_quota_set, name="batch-quota-set"),
    path(ONE + "quotas/<int:pk>/remove/", batch_quota_remove, name="batch-quota-remove"),
    path(ONE + "draws/<uuid:draw>/", draw_detail, name="draw-detail"),
    path(ONE + "applications/<uuid:application>/supplement/", draw_supplement, name="draw-supplement"),
    path(ONE + "applications/<uuid:application>/quota/", quota_decide, name="quota-decide"),
    path(ONE + "applications/<uuid:application>/scores/", scoring_sheet, name="scoring-sheet"),
    path(ONE + "notice/", batch_notice, name="batch-notice"),
    path(OBJECTIONS, objection_list, name="objection-list"),
    path(OBJECTIONS + "<uuid:uuid>/", objection_detail, name="objection-detail"),
    path(OBJECTIONS + "<uuid:uuid>/evidence/", objection_evidence, name="objection-evidence"),
]
