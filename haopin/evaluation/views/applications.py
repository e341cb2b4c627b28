"""Workspace pages of applications, for applicants, recommending units and the office.

- the list (scoped by ``evaluation.policies``; filters, search, export);
- starting an application (an enterprise for one of its brands) or a recommendation (a bureau
  or department for a registry brand it may recommend, which the owner then completes);
- the application's page: its status and decisions, everything it contains, the eligibility
  and veto findings, the expert results for the office, and a form for each move the review
  table allows this user now (``core.workflow.available``), each carrying the status the person
  saw so that a lost race is reported as such;
- the fill-in page of a draft or returned application, section by section;
- the office's checks at the qualification stage (criteria, veto findings).

Thin views: find the application through the selectors (invisible → 404), ask the policy
(forbidden → 403), call a service, render. Forms are re-shown with the service's messages next to
their fields; with htmx a changed field is checked by a dry run of the same service.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.db.models import QuerySet
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from haopin.core import selectors as core_selectors
from haopin.core.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationFailed
from haopin.core.http import HtmxHttpRequest, content_disposition
from haopin.core.listing import Column, Filter, Listing
from haopin.core.models import Category, Region
from haopin.core.policies import ScopeKind, deny_unless, scope_of
from haopin.core.workflow import Transition, available
from haopin.core.workspace import NavItem
from haopin.evaluation import experts, policies, scoring, selectors, services
from haopin.evaluation.forms import (
    CriterionCheckForm,
    DecisionForm,
    DeclarationForm,
    DetailsForm,
    EvidenceForm,
    FiguresForm,
    RecommendForm,
    SelfAssessmentForm,
    StartForm,
    VetoRaiseForm,
    VetoResolveForm,
)
from haopin.evaluation.models import Application, VetoFinding
from haopin.evaluation.workflow import APPLICATION_TRANSITIONS, MANUAL_ACTIONS
from haopin.notifications import links
from haopin.registry.forms import dry_run
from haopin.registry.models import Document

S = Application.Status
HISTORY_LIMIT = 50
RECOMMEND_RESULTS = 30

# The procedure's stages in order (DOMAIN.md), for the progress line on the application's page.
STAGES = [
    (S.DRAFT, "填报"),
    (S.SUBMITTED, "推荐"),
    (S.RECOMMENDED, "资格审查"),
    (S.QUALIFIED, "舆情与信用核查"),
    (S.CHECKED, "专家抽取"),
    (S.EXPERT_REVIEW, "专家评审"),
    (S.REVIEWED, "征求意见"),
    (S.CONSULTED, "结果审定"),
    (S.APPROVED, "待公示"),
    (S.NOTICE, "公示"),
    (S.PUBLISHED, "入选"),
]
STAGE_INDEX: dict[str, int] = {status: index for index, (status, _) in enumerate(STAGES)}


def nav_visible(user: Any) -> bool:
    return scope_of(user).kind != ScopeKind.NONE


NAV = [NavItem("评价管理", "申报", "evaluation:application-list", nav_visible, order=20)]


def _may_start(user: Any) -> bool:
    scope = scope_of(user)
    return scope.kind == ScopeKind.ORGANISATION and scope.can_write


def _may_recommend(user: Any) -> bool:
    scope = scope_of(user)
    return scope.kind in {ScopeKind.REGION, ScopeKind.DEPARTMENT} and scope.can_write


def _crumbs(application: Application | None = None, *tail: tuple[str, str]) -> list[tuple[str, str]]:
    trail = [("申报", reverse("evaluation:application-list"))]
    if application is not None:
        trail.append((application.number, application.get_absolute_url()))
    return [*trail, *tail]


# --- the list ----------------------------------------------------------------------------------


def _memo(request: HttpRequest, key: str, compute: Callable[[], Any]) -> Any:
    """Filter choices are asked for twice per request (to check the value, to draw the
    drop-down); compute them once."""
    cache = request.__dict__.setdefault("_evaluation_memo", {})
    if key not in cache:
        cache[key] = compute()
    return cache[key]


def _batch_choices(request: HttpRequest) -> list[tuple[str, str]]:
    return _memo(
        request,
        "batches",
        lambda: [
            (f"{year}-{sequence}", title)
            for year, sequence, title in policies.batches_for_user(request.user).values_list(
                "year", "sequence", "title"
            )
        ],
    )


def _in_batch(qs: QuerySet, value: str) -> QuerySet:
    year, _, sequence = value.partition("-")
    return qs.filter(batch__year=int(year), batch__sequence=int(sequence))


def _city_of(application: Application) -> str:
    region = application.enterprise.region
    return region.parent.name if region.level == Region.Level.COUNTY and region.parent else region.name


class ApplicationListing(Listing):
    title = "申报"
    columns = [
        Column("number", "申报编号", sort="number", link=True, width=16),
        Column("brand", "品牌", sort="brand__name", value=lambda a: a.brand.name, width=20),
        Column(
            "enterprise", "申报主体", sort="enterprise__name", value=lambda a: a.enterprise.name, width=30
        ),
        Column("batch", "批次", sort="batch__year", value=lambda a: a.batch.title, width=26),
        Column("category", "类别", sort="brand__category__code", value=lambda a: a.brand.category.name),
        Column("city", "城市", value=_city_of, width=10),
        Column("route", "申报方式", sort="route", value=lambda a: a.get_route_display(), width=10),
        Column("status", "状态", sort="status", value=lambda a: a.get_status_display(), width=14),
        Column("submitted_at", "提交时间", sort="submitted_at", width=20),
    ]
    filters = [
        Filter("batch", "批次", _batch_choices, _in_batch),
        Filter.lookup("status", "状态", "status", lambda request: S.choices),
        Filter(
            "category",
            "类别",
            lambda request: _memo(
                request,
                "categories",
                lambda: list(Category.objects.filter(level=2, active=True).values_list("code", "name")),
            ),
            lambda qs, code: qs.filter(brand__category__in=Category.objects.filter(code__startswith=code)),
        ),
        Filter(
            "city",
            "城市",
            lambda request: _memo(
                request, "cities", lambda: core_selectors.region_choices(request.user, levels=("city",))
            ),
            lambda qs, code: qs.filter(
                enterprise__region__in=Region.objects.filter(code__startswith=code[:4])
            ),
        ),
        Filter.lookup("route", "申报方式", "route", lambda request: Application.Route.choices),
    ]
    search_fields = ["number", "brand__name", "enterprise__name"]
    search_placeholder = "搜索申报编号、品牌或申报主体"
    # What changed lately comes first: what a reviewer or an applicant opens the list for.
    default_sort = "-updated_at"
    export_name = "申报"

    def __init__(self, request: HttpRequest, **context: Any):
        super().__init__(request, **context)
        self.actions = []
        if _may_start(request.user):
            self.actions.append(("申报品牌", reverse("evaluation:application-start")))
        if _may_recommend(request.user):
            self.actions.append(("推荐品牌", reverse("evaluation:application-recommend")))

    def queryset(self) -> QuerySet[Application]:
        return selectors.application_list_for_user(self.request.user)


@login_required
@require_GET
def application_list(request: HttpRequest) -> HttpResponse | FileResponse:
    return ApplicationListing(request).response()


# --- shared form handling ----------------------------------------------------------------------


def field_response(request: HtmxHttpRequest, form: Any) -> HttpResponse:
    """Inline validation: the changed field alone, re-rendered with its errors."""
    name = request.htmx.trigger_name if request.htmx else None
    if name and form.prefix and name.startswith(f"{form.prefix}-"):
        name = name[len(form.prefix) + 1 :]
    if not name or name not in form.fields:
        return HttpResponse("未知字段。", status=400)
    return render(
        request,
        "evaluation/application_field.html",
        {"f": form[name], "compact": getattr(form, "compact", False)},
    )


def validate(request: HtmxHttpRequest, form: Any, call: Callable[[], Any]) -> HttpResponse:
    """Check the form, then the service in a dry run; answer with the changed field."""
    # The answer replaces the field: it must carry the same htmx attributes (and hx-preserve).
    form.enable_inline_validation(request.path)
    if form.is_valid():
        try:
            dry_run(call)
        except (ValidationFailed, ConflictError, PermissionDeniedError) as exc:
            form.show_error(exc)
    return field_response(request, form)


def is_check(request: HtmxHttpRequest) -> bool:
    return request.method == "POST" and bool(request.htmx)


# --- starting an application ---------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def application_start(request: HtmxHttpRequest) -> HttpResponse:
    user = request.user
    deny_unless(_may_start(user), "只有企业或品牌所有者的经办人员可以申报。")
    brands = selectors.brands_for_application(user)
    open_batches = selectors.batches_open_for_applications(user)
    batches = list(open_batches)
    form = StartForm(request.POST or None, brands=brands, batches=open_batches)
    form.enable_inline_validation(request.path)

    def submit() -> Application:
        return services.application_start(
            actor=user, batch=form.cleaned_data["batch"], brand=form.cleaned_data["brand"]
        )

    if is_check(request):
        return validate(request, form, submit)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                application = submit()
            except (ValidationFailed, ConflictError) as exc:
                form.show_error(exc)
                status = exc.status
            else:
                messages.success(request, f"已创建申报 {application.number}，请逐项填写申报材料。")
                return redirect("evaluation:application-edit", uuid=application.uuid)
        else:
            status = 422
    return render(
        request,
        "evaluation/application_start.html",
        {
            "form": form,
            "batches": batches,
            "has_brands": brands.exists(),
            "crumbs": _crumbs(None, ("申报品牌", "")),
        },
        status=status,
    )


@login_required
@require_GET
def application_recommend(request: HttpRequest) -> HttpResponse:
    """Search the registry for a brand to recommend (by brand, owner or credit code)."""
    user = request.user
    deny_unless(_may_recommend(user), "只有市、县市场监管部门和省直部门的经办人员可以推荐品牌。")
    term = request.GET.get("q", "").strip()[:100]
    results = list(selectors.brands_to_recommend(user, term)[: RECOMMEND_RESULTS + 1])
    return render(
        request,
        "evaluation/application_recommend.html",
        {
            "q": term,
            "results": results[:RECOMMEND_RESULTS],
            "more": len(results) > RECOMMEND_RESULTS,
            "crumbs": _crumbs(None, ("推荐品牌", "")),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def application_recommend_brand(request: HtmxHttpRequest, brand: Any) -> HttpResponse:
    user = request.user
    deny_unless(_may_recommend(user), "只有市、县市场监管部门和省直部门的经办人员可以推荐品牌。")
    chosen = selectors.brands_to_recommend(user).filter(uuid=brand).first()
    if chosen is None:
        raise NotFoundError("没有找到该品牌，或该品牌不在您单位的推荐范围内。")
    open_batches = selectors.batches_open_for_applications(user)
    batches = list(open_batches)
    form = RecommendForm(request.POST or None, batches=open_batches)
    form.enable_inline_validation(request.path)

    def submit() -> Application:
        return services.application_recommend_start(
            actor=user, batch=form.cleaned_data["batch"], brand=chosen, summary=form.cleaned_data["summary"]
        )

    if is_check(request):
        return validate(request, form, submit)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                application = submit()
            except (ValidationFailed, ConflictError) as exc:
                form.show_error(exc)
                status = exc.status
            else:
                message = f"已推荐“{chosen.name}”（{application.number}），已通知品牌所属单位完善申报材料。"
                messages.success(request, message)
                return redirect(application.get_absolute_url())
        else:
            status = 422
    return render(
        request,
        "evaluation/application_recommend_brand.html",
        {
            "brand": chosen,
            "form": form,
            "batches": batches,
            "crumbs": _crumbs(
                None, ("推荐品牌", reverse("evaluation:application-recommend")), (chosen.name, "")
            ),
        },
        status=status,
    )


# --- the application's page ----------------------------------------------------------------------


@dataclass
class ActionEntry:
    name: str
    move: Transition
    form: DecisionForm
    open: bool = False


@dataclass
class CriterionRow:
    outcome: Any
    check: Any
    form: CriterionCheckForm | None


def _stages(application: Application, decisions: list[Any]) -> list[dict[str, Any]]:
    """The progress line: each stage done, current or ahead (nothing is current once the
    application left the procedure; a returned one stands at 填报 again)."""
    current = S.DRAFT if application.status == S.RETURNED else application.status
    position = STAGE_INDEX.get(current)
    reached = STAGE_INDEX.get(_furthest(decisions), 0)
    rows = []
    for index, (_status, label) in enumerate(STAGES):
        if position is not None:
            state = "done" if index < position else ("current" if index == position else "ahead")
        else:
            state = "done" if index <= reached else "ahead"
        rows.append({"label": label, "state": state})
    return rows


def _furthest(decisions: list[Any]) -> str:
    """For an application that left the procedure (rejected, withdrawn): the stage it had reached."""
    best = S.DRAFT
    for decision in decisions:
        for status in (decision.from_status, decision.to_status):
            if STAGE_INDEX.get(status, -1) > STAGE_INDEX.get(best, -1):
                best = status
    return best


def _decision_rows(decisions: list[Any]) -> list[dict[str, Any]]:
    labels = dict(S.choices)
    rows = []
    for decision in decisions:
        move = APPLICATION_TRANSITIONS.get(decision.action)
        rows.append(
            {
                "decision": decision,
                "label": move.label if move else decision.action,
                "style": move.style if move else "",
                "from": labels.get(decision.from_status, decision.from_status),
                "to": labels.get(decision.to_status, decision.to_status),
            }
        )
    return rows


def _moves(application: Application, user: Any) -> list[tuple[str, Transition]]:
    return [
        (name, move)
        for name, move in available(APPLICATION_TRANSITIONS, application, user)
        if name in MANUAL_ACTIONS
    ]


def _detail(
    request: HttpRequest,
    application: Application,
    *,
    bound: dict[str, Any] | None = None,
    conflict: str = "",
    status: int = 200,
) -> HttpResponse:
    """Render the application's page; ``bound`` holds forms re-shown with their errors
    (``action:<name>``, ``criterion:<id>``, ``veto``, ``resolve:<id>``)."""
    user = request.user
    bound = bound or {}
    page = selectors.application_page(application)
    app = page.application
    office = policies.is_office(user)
    office_reader = policies.is_office_reader(user)
    expert_seat = None
    if policies.expert_profile(user) is not None:
        expert_seat = experts.assignment_list_for_expert(user).filter(application=app).first()

    actions = []
    for name, move in _moves(app, user):
        form = bound.get(f"action:{name}") or DecisionForm(
            initial={"expected_status": app.status}, action=name, move=move
        )
        form.enable_inline_validation(reverse("evaluation:application-action", args=[app.uuid, name]))
        actions.append(ActionEntry(name, move, form, open=f"action:{name}" in bound))

    checking = office and app.status in services.CHECKABLE
    criteria = []
    for outcome in page.eligibility.outcomes:
        criterion = outcome.criterion
        form = bound.get(f"criterion:{criterion.pk}")
        if form is None and checking and (not criterion.is_automatic or outcome.value is None):
            check = page.eligibility.checks.get(criterion.pk)
            initial = {"met": "yes" if check.met else "no", "note": check.note} if check else None
            form = CriterionCheckForm(initial=initial, criterion=criterion)
        criteria.append(CriterionRow(outcome, page.eligibility.checks.get(criterion.pk), form))

    veto_form = None
    if office and app.status in services.VETO_OPEN:
        veto_form = bound.get("veto") or VetoRaiseForm(veto_items=app.rule_set.veto_items.all())
    resolve_forms = {}
    if office:
        for finding in page.findings:
            if finding.status == VetoFinding.Status.RAISED:
                resolve_forms[finding.pk] = bound.get(f"resolve:{finding.pk}") or VetoResolveForm(
                    finding_id=finding.pk
                )

    sheet = None
    if office_reader and app.status not in {S.DRAFT, S.SUBMITTED, S.RECOMMENDED, S.QUALIFIED, S.CHECKED}:
        sheet = scoring.scoring_sheet(app)
        if not sheet.experts:
            sheet = None

    context = {
        "application": app,
        "page": page,
        "crumbs": _crumbs(app),
        "stages": _stages(app, page.decisions),
        "decisions": _decision_rows(page.decisions),
        "last_decision": page.decisions[-1] if page.decisions else None,
        "actions": actions,
        "criteria": criteria,
        "checking": checking,
        "veto_form": veto_form,
        "resolve_forms": resolve_forms,
        "office_reader": office_reader,
        "sheet": sheet,
        "expert_seat": expert_seat,
        "conflict": conflict,
        "can_edit": policies.is_applicant(user, app) and app.status in services.EDITABLE,
        "competitors": selectors.competitors_named(app.competitors),
        "batch_url": links.url_of(app.batch),
        "rule_set_url": links.url_of(app.rule_set),
        "history": _history(app) if office_reader else None,
        "show_results": office_reader and app.score_total is not None,
    }
    return render(request, "evaluation/application_detail.html", context, status=status)


# Keys of the application's audit events that are not fields of Application (declared to
# core.audit in EvaluationConfig.ready, so the history shows them in Chinese).
AUDIT_LABELS = {
    "action": "操作",
    "figures": "主要经济指标",
    "self_assessment": "自评",
    "evidence": "证明材料",
    "title": "材料名称",
    "document": "文件",
    "sha256": "SHA-256",
    "indicator": "对应指标",
    "finding": "否决情形记录",
    "veto_item": "否决项",
    "criterion": "资格条件",
    "met": "是否满足",
    "note": "说明",
    "opinion": "意见",
    "deadline": "整改期限",
    "resolution": "核实意见",
    "within_quota": "在名额内",
    "reason": "理由",
}


def _history(application: Application) -> list[Any]:
    return list(core_selectors.history_for(application)[:HISTORY_LIMIT])


@login_required
@require_GET
def application_detail(request: HttpRequest, uuid: Any) -> HttpResponse:
    application = selectors.application_get_for_user(request.user, uuid=uuid)
    return _detail(request, application)


def _upload(request: HttpRequest, application: Application, upload: Any, title: str) -> Document:
    return services.application_document_store(
        actor=request.user, application=application, upload=upload, name=upload.name, title=title
    )


@login_required
@require_POST
def application_action(request: HtmxHttpRequest, uuid: Any, action: str) -> HttpResponse:
    """One move of the review, from the form on the application's page."""
    user = request.user
    application = selectors.application_get_for_user(user, uuid=uuid)
    move = APPLICATION_TRANSITIONS.get(action)
    if move is None or action not in MANUAL_ACTIONS:
        raise NotFoundError("没有这项操作。")
    form = DecisionForm(request.POST, request.FILES, action=action, move=move)

    def decide(document: Document | None = None) -> Application:
        data = form.cleaned_data
        return services.application_move(
            application=application,
            action=action,
            actor=user,
            opinion=data.get("opinion") or "",
            deadline=data.get("deadline"),
            document=document,
            expected_status=data["expected_status"],
        )

    if is_check(request):
        return validate(request, form, decide)
    if not form.is_valid():
        if "expected_status" in form.errors:
            raise ValidationFailed("表单已过期，请刷新页面后再操作。")
        return _detail(request, application, bound={f"action:{action}": form}, status=422)
    expected = form.cleaned_data["expected_status"]
    upload = form.cleaned_data.get("document")
    try:
        with transaction.atomic():
            document = None
            if upload:
                # A move that can no longer happen is refused (by the service, with its own
                # message) before a file is stored for it.
                if application.status != expected or action not in dict(_moves(application, user)):
                    decide()
                try:
                    title = f"{application.number} {move.label}依据材料"
                    document = _upload(request, application, upload, title)
                except PermissionDeniedError as exc:
                    raise ValidationFailed(exc.message, details={"document": exc.message}) from exc
            decide(document)
    except ConflictError as exc:
        fresh = selectors.application_get_for_user(user, uuid=uuid)
        return _detail(request, fresh, conflict=exc.message, status=exc.status)
    except ValidationFailed as exc:
        form.show_error(exc)
        return _detail(request, application, bound={f"action:{action}": form}, status=exc.status)
    messages.success(request, f"已{move.label}：{application.number}（{application.get_status_display()}）。")
    return redirect(application.get_absolute_url())


# --- the office's checks at the qualification stage -------------------------------------------


def _office_check(
    request: HttpRequest,
    application: Application,
    key: str,
    form: Any,
    act: Callable[[dict[str, Any]], Any],
    *,
    done: str,
    anchor: str,
) -> HttpResponse:
    """Validate ``form`` and run ``act`` (the service call) with its cleaned data. A refusal
    comes back on the application's page, next to the form (``key`` in ``bound``) or as a
    conflict; success redirects to ``anchor`` with the message ``done``."""
    if not form.is_valid():
        return _detail(request, application, bound={key: form}, status=422)
    try:
        act(form.cleaned_data)
    except ValidationFailed as exc:
        form.show_error(exc)
        return _detail(request, application, bound={key: form}, status=exc.status)
    except ConflictError as exc:
        return _detail(request, application, conflict=exc.message, status=exc.status)
    messages.success(request, done)
    return redirect(application.get_absolute_url() + anchor)


@login_required
@require_POST
def application_criterion(request: HttpRequest, uuid: Any, pk: int) -> HttpResponse:
    user = request.user
    application = selectors.application_get_for_user(user, uuid=uuid)
    criterion = application.rule_set.criteria.filter(pk=pk).first()
    if criterion is None:
        raise NotFoundError("本申报适用的评价细则没有该资格条件。")
    deny_unless(policies.is_office(user), "只有省质量强省办可以审查资格条件。")

    def act(data: dict[str, Any]) -> Any:
        return services.application_check_criterion(
            actor=user,
            application=application,
            criterion=criterion,
            met=data["met"] == "yes",
            note=data["note"],
        )

    form = CriterionCheckForm(request.POST, criterion=criterion)
    return _office_check(
        request,
        application,
        f"criterion:{pk}",
        form,
        act,
        done=f"已记录资格条件 {criterion.code} 的审查结论。",
        anchor="#eligibility",
    )


@login_required
@require_POST
def application_veto_raise(request: HttpRequest, uuid: Any) -> HttpResponse:
    user = request.user
    application = selectors.application_get_for_user(user, uuid=uuid)
    deny_unless(policies.is_office(user), "只有省质量强省办和本申报的评审专家可以提出否决情形。")

    @transaction.atomic  # the evidence is stored only with the finding
    def act(data: dict[str, Any]) -> Any:
        document = None
        if data.get("document"):
            title = f"{application.number} 否决情形 {data['veto_item'].code} 证明材料"
            document = _upload(request, application, data["document"], title)
        return services.veto_raise(
            actor=user,
            application=application,
            veto_item=data["veto_item"],
            note=data["note"],
            document=document,
        )

    form = VetoRaiseForm(request.POST, request.FILES, veto_items=application.rule_set.veto_items.all())
    return _office_check(
        request, application, "veto", form, act, done="已提出否决情形，待核实。", anchor="#veto"
    )


@login_required
@require_POST
def application_veto_resolve(request: HttpRequest, uuid: Any, pk: int) -> HttpResponse:
    user = request.user
    application = selectors.application_get_for_user(user, uuid=uuid)
    finding = application.veto_findings.select_related("veto_item").filter(pk=pk).first()
    if finding is None:
        raise NotFoundError()
    deny_unless(policies.is_office(user), "只有省质量强省办可以核实否决情形。")

    def act(data: dict[str, Any]) -> Any:
        return services.veto_resolve(
            actor=user, finding=finding, confirmed=data["outcome"] == "confirm", resolution=data["resolution"]
        )

    form = VetoResolveForm(request.POST, finding_id=pk)
    return _office_check(
        request,
        application,
        f"resolve:{pk}",
        form,
        act,
        done=f"已核实否决情形 {finding.veto_item.code}。",
        anchor="#veto",
    )


@login_required
@require_GET
def application_document(request: HttpRequest, uuid: Any, document: Any) -> FileResponse:
    """A file attached to the application, for whoever may see the application (experts
    included, who do not see the registry's documents)."""
    application = selectors.application_get_for_user(request.user, uuid=uuid)
    stored = selectors.application_document_get(application, document)
    try:
        handle = stored.file.open("rb")
    except FileNotFoundError as exc:
        raise NotFoundError("文件已不存在。") from exc
    response = FileResponse(handle, content_type=stored.content_type)
    response["Content-Disposition"] = content_disposition(stored.original_name)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


# --- filling in ----------------------------------------------------------------------------------


def _editable(user: Any, uuid: Any) -> Application:
    application = selectors.application_get_for_user(user, uuid=uuid)
    deny_unless(policies.is_applicant(user, application), "只有申报单位的经办人员可以填写申报材料。")
    if application.status not in services.EDITABLE:
        raise ConflictError(
            f"申报当前状态为“{application.get_status_display()}”，只有填报中或退回修改的申报可以修改。",
            code="application_frozen",
        )
    return application


# What the fill-in page checks off (``selectors.application_gaps`` keys), with the section each
# item is filled in.
CHECKLIST = [
    ("window", "", "申报时间"),
    ("summary", "details", "品牌简介与申报理由"),
    ("products", "details", "申报的产品或服务"),
    ("figures", "figures", "近三年主要经济指标"),
    ("self_assessment", "self_assessment", "对照评价指标自评"),
    ("declaration", "declaration", "真实性承诺"),
]


def _edit_forms(application: Application, page: Any) -> dict[str, Any]:
    products = page.products
    return {
        "details": DetailsForm(application=application, chosen=[p.pk for p in products]),
        "figures": FiguresForm(years=selectors.required_years(application.batch), figures=page.figures),
        "self_assessment": SelfAssessmentForm(
            indicators=scoring.leaf_indicators(application.rule_set_id), saved=page.self_assessments
        ),
        "evidence": EvidenceForm(indicators=application.rule_set.indicators.filter(parent__isnull=False)),
        "declaration": DeclarationForm(),
    }


def _edit_page(
    request: HttpRequest, application: Application, *, bound: dict[str, Any] | None = None, status: int = 200
) -> HttpResponse:
    page = selectors.application_page(application)
    app = page.application
    forms = _edit_forms(app, page)
    forms.update(bound or {})
    base = reverse("evaluation:application-edit", args=[app.uuid])
    forms["details"].enable_inline_validation(base + "details/")
    forms["figures"].enable_inline_validation(base + "figures/")
    forms["self_assessment"].enable_inline_validation(base + "self-assessment/")
    forms["declaration"].enable_inline_validation(base + "declaration/")
    submit = dict(_moves(app, request.user)).get("submit")
    submit_form = None
    if submit is not None:
        submit_form = DecisionForm(initial={"expected_status": app.status}, action="submit", move=submit)
    checklist = [
        (anchor, label, page.gaps.get(key, ""))
        for key, anchor, label in CHECKLIST
        if key != "window" or key in page.gaps
    ]
    return render(
        request,
        "evaluation/application_edit.html",
        {
            "application": app,
            "page": page,
            "forms": forms,
            "gaps": page.gaps,
            "checklist": checklist,
            "submit_form": submit_form,
            "last_decision": page.decisions[-1] if page.decisions else None,
            "indicator_count": len(page.leaf_indicators),
            "assessed_count": len(page.self_assessments),
            "crumbs": _crumbs(app, ("填写申报材料", "")),
        },
        status=status,
    )


@login_required
@require_GET
def application_edit(request: HttpRequest, uuid: Any) -> HttpResponse:
    return _edit_page(request, _editable(request.user, uuid))


def _section(
    request: HtmxHttpRequest,
    uuid: Any,
    *,
    name: str,
    make: Callable[[Application], Any],
    save: Callable[[Application, Any], Any],
    saved: str,
) -> HttpResponse:
    """Save one section of the fill-in page through its service; re-show it with the errors."""
    application = _editable(request.user, uuid)
    form = make(application)
    if is_check(request):
        return validate(request, form, lambda: save(application, form))
    status = 422
    if form.is_valid():
        try:
            save(application, form)
        except (ValidationFailed, ConflictError) as exc:
            form.show_error(exc)
            status = exc.status
        else:
            messages.success(request, saved)
            return redirect(reverse("evaluation:application-edit", args=[application.uuid]) + f"#{name}")
    return _edit_page(request, application, bound={name: form}, status=status)


@login_required
@require_POST
def application_edit_details(request: HtmxHttpRequest, uuid: Any) -> HttpResponse:
    def save(application: Application, form: DetailsForm) -> Any:
        values = form.service_values()
        products = values.pop("products")
        return services.application_update(
            actor=request.user, application=application, products=products, **values
        )

    return _section(
        request,
        uuid,
        name="details",
        make=lambda application: DetailsForm(request.POST, application=application),
        save=save,
        saved="基本情况已保存。",
    )


@login_required
@require_POST
def application_edit_figures(request: HtmxHttpRequest, uuid: Any) -> HttpResponse:
    return _section(
        request,
        uuid,
        name="figures",
        make=lambda application: FiguresForm(request.POST, years=selectors.required_years(application.batch)),
        save=lambda application, form: services.application_set_figures(
            actor=request.user, application=application, figures=form.service_values()
        ),
        saved="主要经济指标已保存。",
    )


@login_required
@require_POST
def application_edit_self_assessment(request: HtmxHttpRequest, uuid: Any) -> HttpResponse:
    def make(application: Application) -> SelfAssessmentForm:
        leaves = scoring.leaf_indicators(application.rule_set_id)
        saved = {a.indicator_id: a for a in application.self_assessments.all()}
        return SelfAssessmentForm(request.POST, indicators=leaves, saved=saved)

    def save(application: Application, form: SelfAssessmentForm) -> Any:
        scores, notes = form.service_values()
        return services.application_set_self_assessment(
            actor=request.user, application=application, scores=scores, notes=notes
        )

    return _section(request, uuid, name="self_assessment", make=make, save=save, saved="自评已保存。")


@login_required
@require_POST
def application_declaration(request: HtmxHttpRequest, uuid: Any) -> HttpResponse:
    return _section(
        request,
        uuid,
        name="declaration",
        make=lambda application: DeclarationForm(request.POST),
        save=lambda application, form: services.application_sign_declaration(
            actor=request.user, application=application, name=form.cleaned_data["name"]
        ),
        saved="已签署真实性承诺。",
    )


@login_required
@require_POST
def application_evidence_add(request: HttpRequest, uuid: Any) -> HttpResponse:
    application = _editable(request.user, uuid)
    indicators = application.rule_set.indicators.filter(parent__isnull=False)
    form = EvidenceForm(request.POST, request.FILES, indicators=indicators)
    status = 422
    if form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            services.application_evidence_add(
                actor=request.user,
                application=application,
                upload=upload,
                name=upload.name,
                title=form.cleaned_data["title"],
                indicator=form.cleaned_data["indicator"],
            )
        except (ValidationFailed, ConflictError) as exc:
            form.show_error(exc)
            status = exc.status
        else:
            messages.success(request, "证明材料已上传。")
            return redirect(reverse("evaluation:application-edit", args=[application.uuid]) + "#evidence")
    return _edit_page(request, application, bound={"evidence": form}, status=status)


@login_required
@require_POST
def application_evidence_remove(request: HttpRequest, uuid: Any, pk: int) -> HttpResponse:
    application = _editable(request.user, uuid)
    evidence = application.evidence.filter(pk=pk).first()
    if evidence is None:
        raise NotFoundError()
    services.application_evidence_remove(actor=request.user, evidence=evidence)
    messages.success(request, f"已删除证明材料“{evidence.title}”。")
    return redirect(reverse("evaluation:application-edit", args=[application.uuid]) + "#evidence")


ROOT = "workspace/evaluation/applications/"
ONE = ROOT + "<uuid:uuid>/"

urlpatterns = [
    path(ROOT, application_list, name="application-list"),
    path(ROOT + "new/", application_start, name="application-start"),
    path(ROOT + "recommend/", application_recommend, name="application-recommend"),
    path(
        ROOT + "recommend/<uuid:brand>/",
        application_recommend_brand,
        name="application-recommend-brand",
    ),
    path(ONE + "", application_detail, name="application-detail"),
    path(
        ONE + "actions/<str:action>/",
        application_action,
        name="application-action",
    ),
    path(
        ONE + "criteria/<int:pk>/",
        application_criterion,
        name="application-criterion",
    ),
    path(ONE + "veto/", application_veto_raise, name="application-veto"),
    path(
        ONE + "veto/<int:pk>/resolve/",
        application_veto_resolve,
        name="application-veto-resolve",
    ),
    path(
        ONE + "documents/<uuid:document>/",
        application_document,
        name="application-document",
    ),
    path(ONE + "edit/", application_edit, name="application-edit"),
    path(
        ONE + "edit/details/",
        application_edit_details,
        name="application-edit-details",
    ),
    path(
        ONE + "edit/figures/",
        application_edit_figures,
        name="application-edit-figures",
    ),
    path(
        ONE + "edit/self-assessment/",
        application_edit_self_assessment,
        name="application-edit-self-assessment",
    ),
    path(
        ONE + "edit/declaration/",
        application_declaration,
        name="application-declaration",
    ),
    path(
        ONE + "edit/evidence/",
        application_evidence_add,
        name="application-evidence-add",
    ),
    path(
        ONE + "edit/evidence/<int:pk>/remove/",
        application_evidence_remove,
        name="application-evidence-remove",
    ),
]
