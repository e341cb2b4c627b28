"""Workspace pages of the experts: their assignments, the conflict-of-interest declaration, the
score sheet and raising a veto item.

Every page is found through the expert's own assignments (``experts.assignment_get_for_expert``,
never a standby reserve seat): anyone else's is not found. Until the expert declares no conflict
the page shows only what is needed to judge one — the applicant's name, credit code, city and the
competitors it names — and the application itself stays invisible (``policies``). URLs carry the
application's UUID: an expert holds at most one seat per application.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.db.models import Count, QuerySet
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from haopin.core.errors import ConflictError, PermissionDeniedError, ValidationFailed
from haopin.core.http import HtmxHttpRequest
from haopin.core.listing import Column, Filter, Listing
from haopin.core.policies import deny_unless
from haopin.core.workspace import NavItem, TodoItem
from haopin.evaluation import experts, policies, scoring, selectors, services
from haopin.evaluation.forms import ConflictForm, DeclineForm, ScoreSheetForm, VetoRaiseForm
from haopin.evaluation.models import Application, Assignment
from haopin.evaluation.views.applications import is_check, validate

A = Assignment.Status


def is_expert(user: Any) -> bool:
    return policies.expert_profile(user) is not None


NAV = [NavItem("评价管理", "评审任务", "evaluation:assignment-list", is_expert, order=30)]


def todo_items(user: Any) -> list[TodoItem]:
    """What waits for an expert (a to-do provider for ``core.workspace.register_todo``): seats
    to declare and sheets to score, for applications still in the expert review."""
    if not is_expert(user):
        return []
    rows = (
        policies.assignments_for_expert(user)
        .filter(application__status=Application.Status.EXPERT_REVIEW, status__in=[A.INVITED, A.ACCEPTED])
        .order_by()
        .values("status")
        .annotate(n=Count("pk"))
    )
    counts = {row["status"]: row["n"] for row in rows}
    url = reverse("evaluation:assignment-list")
    return [
        TodoItem(
            "项评审任务待声明利益冲突",
            counts.get(A.INVITED, 0),
            f"{url}?status={A.INVITED}",
            "声明与申报单位无利益冲突后，即可查看申报材料并评分",
        ),
        TodoItem(
            "项评审任务待提交评分",
            counts.get(A.ACCEPTED, 0),
            f"{url}?status={A.ACCEPTED}",
            "逐项评分并填写评语，提交后不能再修改",
        ),
    ]


def _crumbs(assignment: Assignment | None = None, *tail: tuple[str, str]) -> list[tuple[str, str]]:
    trail = [("评审任务", reverse("evaluation:assignment-list"))]
    if assignment is not None:
        url = reverse("evaluation:assignment-detail", args=[assignment.application.uuid])
        trail.append((assignment.application.number, url))
    return [*trail, *tail]


def _city(region: Any) -> str:
    return region.parent.name if region.level == "county" and region.parent else region.name


# --- the list ------------------------------------------------------------------------------------


class AssignmentListing(Listing):
    title = "评审任务"
    columns = [
        Column(
            "number", "申报编号", sort="application__number", link=True, value=lambda a: a.application.number
        ),
        Column("brand", "品牌", sort="application__brand__name", value=lambda a: a.application.brand.name),
        Column(
            "category",
            "类别",
            sort="application__brand__category__code",
            value=lambda a: a.application.brand.category.name,
        ),
        Column("batch", "批次", value=lambda a: a.application.batch.title, width=26),
        Column("role", "角色", sort="role", value=lambda a: a.get_role_display(), width=10),
        Column("status", "状态", sort="status", value=lambda a: a.get_status_display(), width=16),
        Column(
            "deadline",
            "评审截止",
            sort="application__batch__review_until",
            value=lambda a: a.application.batch.review_until,
            width=16,
        ),
    ]
    filters = [
        Filter.lookup(
            "status",
            "状态",
            "status",
            lambda request: [(value, label) for value, label in A.choices if value != A.STANDBY],
        ),
    ]
    search_fields = ["application__number", "application__brand__name"]
    search_placeholder = "搜索申报编号或品牌"
    default_sort = "-created_at"
    select_related = ["application__brand__category", "application__batch"]
    export_name = "评审任务"

    def queryset(self) -> QuerySet[Assignment]:
        return experts.assignment_list_for_expert(self.request.user)

    def object_url(self, obj: Assignment) -> str:
        return reverse("evaluation:assignment-detail", args=[obj.application.uuid])


@login_required
@require_GET
def assignment_list(request: HttpRequest) -> HttpResponse | FileResponse:
    deny_unless(is_expert(request.user), "评审任务仅对专家库成员开放。")
    return AssignmentListing(request).response()


# --- one assignment: the declaration -------------------------------------------------------------


def _assignment(user: Any, uuid: Any) -> Assignment:
    return experts.assignment_get_for_expert(user, application__uuid=uuid)


def _detail(
    request: HttpRequest,
    assignment: Assignment,
    *,
    conflict_form: ConflictForm | None = None,
    decline_form: DeclineForm | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    application = assignment.application
    enterprise = application.enterprise
    declared = assignment.status in policies.DECLARED
    return render(
        request,
        "evaluation/assignment_detail.html",
        {
            "assignment": assignment,
            "application": application,
            "enterprise": enterprise,
            "city": _city(enterprise.region),
            "competitors": selectors.competitors_named(application.competitors),
            "declared": declared,
            "in_review": application.status == application.Status.EXPERT_REVIEW,
            "conflict_form": conflict_form or ConflictForm(),
            "decline_form": decline_form or DeclineForm(),
            "error": error,
            "crumbs": _crumbs(assignment),
        },
        status=status,
    )


@login_required
@require_GET
def assignment_detail(request: HttpRequest, uuid: Any) -> HttpResponse:
    return _detail(request, _assignment(request.user, uuid))


@login_required
@require_POST
def assignment_accept(request: HttpRequest, uuid: Any) -> HttpResponse:
    assignment = _assignment(request.user, uuid)
    try:
        experts.assignment_declare(actor=request.user, assignment=assignment, conflict=False)
    except ConflictError as exc:
        return _detail(request, _assignment(request.user, uuid), error=exc.message, status=exc.status)
    messages.success(request, "已声明与申报单位无利益冲突，现在可以查看申报材料并评分。")
    return redirect("evaluation:assignment-detail", uuid=uuid)


@login_required
@require_POST
def assignment_conflict(request: HttpRequest, uuid: Any) -> HttpResponse:
    assignment = _assignment(request.user, uuid)
    form = ConflictForm(request.POST)
    if not form.is_valid():
        return _detail(request, assignment, conflict_form=form, status=422)
    try:
        experts.assignment_declare(
            actor=request.user, assignment=assignment, conflict=True, note=form.cleaned_data["note"]
        )
    except ValidationFailed as exc:
        form.show_error(exc)
        return _detail(request, assignment, conflict_form=form, status=exc.status)
    except ConflictError as exc:
        return _detail(request, _assignment(request.user, uuid), error=exc.message, status=exc.status)
    messages.success(request, "已声明存在利益冲突，您将回避该申报的评审。")
    return redirect("evaluation:assignment-list")


@login_required
@require_POST
def assignment_decline(request: HttpRequest, uuid: Any) -> HttpResponse:
    assignment = _assignment(request.user, uuid)
    form = DeclineForm(request.POST)
    if not form.is_valid():
        return _detail(request, assignment, decline_form=form, status=422)
    try:
        experts.assignment_decline(actor=request.user, assignment=assignment, note=form.cleaned_data["note"])
    except ConflictError as exc:
        return _detail(request, _assignment(request.user, uuid), error=exc.message, status=exc.status)
    messages.success(request, "已拒绝该评审任务，将由备选专家递补。")
    return redirect("evaluation:assignment-list")


# --- the score sheet ------------------------------------------------------------------------------


def _sheet(request: HttpRequest, uuid: Any) -> tuple[Assignment, list[Any]] | HttpResponse:
    """The expert's own sheet, or a redirect to the declaration while none has been made."""
    assignment = _assignment(request.user, uuid)
    if assignment.status == A.INVITED:
        messages.info(request, "请先声明与申报单位是否存在利益冲突，再查看申报材料和评分。")
        return redirect("evaluation:assignment-detail", uuid=uuid)
    return scoring.expert_sheet(request.user, assignment.pk)


def _frozen(assignment: Assignment) -> str:
    """Why the sheet can no longer change ('' while it can); the services say the same."""
    application = assignment.application
    if assignment.status == A.SUBMITTED:
        return "评分已提交，不能再修改。"
    if application.status != application.Status.EXPERT_REVIEW:
        return f"申报 {application.number} 当前为“{application.get_status_display()}”，不在专家评审阶段。"
    return ""


def _sheet_page(
    request: HttpRequest,
    assignment: Assignment,
    rows: list[Any],
    form: ScoreSheetForm | None = None,
    *,
    status: int = 200,
) -> HttpResponse:
    application = assignment.application
    scored = [score for _, score in rows if score is not None]
    total = sum((score.score for score in scored), start=0)
    maximum = sum((indicator.max_score for indicator, _ in rows), start=0)
    editable = assignment.status == A.ACCEPTED and application.status == application.Status.EXPERT_REVIEW
    if form is None and editable:
        form = ScoreSheetForm(rows=rows)
    if form is not None:
        form.enable_inline_validation(reverse("evaluation:assignment-scores", args=[application.uuid]))
    return render(
        request,
        "evaluation/score_sheet.html",
        {
            "assignment": assignment,
            "application": application,
            "rows": rows,
            "form": form if editable else None,
            "scored": len(scored),
            "total": total,
            "maximum": maximum,
            "crumbs": _crumbs(assignment, ("评分表", "")),
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def assignment_scores(request: HtmxHttpRequest, uuid: Any) -> HttpResponse:
    found = _sheet(request, uuid)
    if isinstance(found, HttpResponse):
        return found
    assignment, rows = found
    if request.method == "GET":
        return _sheet_page(request, assignment, rows)
    frozen = _frozen(assignment)
    if frozen:
        messages.error(request, frozen)
        return redirect("evaluation:assignment-scores", uuid=uuid)
    form = ScoreSheetForm(request.POST, rows=rows)

    def save() -> Any:
        return scoring.scores_save(actor=request.user, assignment=assignment, scores=form.service_values())

    if is_check(request):
        return validate(request, form, save)
    if not form.is_valid():
        return _sheet_page(request, assignment, rows, form, status=422)
    try:
        save()
    except ValidationFailed as exc:
        form.show_error(exc)
        return _sheet_page(request, assignment, rows, form, status=exc.status)
    except ConflictError as exc:
        messages.error(request, exc.message)
        return redirect("evaluation:assignment-scores", uuid=uuid)
    if request.POST.get("intent") == "submit":
        return redirect("evaluation:assignment-submit", uuid=uuid)
    messages.success(request, "评分草稿已保存；提交前仅您本人可见，可以继续修改。")
    return redirect("evaluation:assignment-scores", uuid=uuid)


@login_required
@require_http_methods(["GET", "POST"])
def assignment_submit(request: HttpRequest, uuid: Any) -> HttpResponse:
    """The confirmation before a score sheet is submitted (and locked)."""
    found = _sheet(request, uuid)
    if isinstance(found, HttpResponse):
        return found
    assignment, rows = found
    status = 200
    error = None
    if request.method == "POST":
        try:
            scoring.scores_submit(actor=request.user, assignment=assignment)
        except (ValidationFailed, ConflictError) as exc:
            error = exc
            status = exc.status
        else:
            number = assignment.application.number
            messages.success(request, f"已提交申报 {number} 的评分，评分表不能再修改。")
            return redirect("evaluation:assignment-detail", uuid=uuid)
    missing = [indicator for indicator, score in rows if score is None]
    total = sum((score.score for _, score in rows if score is not None), start=0)
    return render(
        request,
        "evaluation/score_submit.html",
        {
            "assignment": assignment,
            "application": assignment.application,
            "rows": rows,
            "missing": missing,
            "total": total,
            "maximum": sum((indicator.max_score for indicator, _ in rows), start=0),
            "error": error,
            "crumbs": _crumbs(assignment, ("提交评分", "")),
        },
        status=status,
    )


# --- raising a veto item --------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def assignment_veto(request: HtmxHttpRequest, uuid: Any) -> HttpResponse:
    assignment = _assignment(request.user, uuid)
    if assignment.status not in policies.DECLARED:
        raise PermissionDeniedError("请先声明与申报单位无利益冲突。")
    application = assignment.application
    veto_items = application.rule_set.veto_items.all()
    form = VetoRaiseForm(request.POST or None, request.FILES or None, veto_items=veto_items)
    form.enable_inline_validation(request.path)

    def raise_veto() -> Any:
        # The evidence and the finding are one decision: both are kept, or neither.
        with transaction.atomic():
            upload = form.cleaned_data.get("document")
            document = None
            if upload is not None:
                document = services.application_document_store(
                    actor=request.user,
                    application=application,
                    upload=upload,
                    name=upload.name,
                    title=f"否决情形证明材料：{form.cleaned_data['veto_item'].code}",
                )
            return scoring.expert_veto_raise(
                actor=request.user,
                assignment=assignment,
                veto_item=form.cleaned_data["veto_item"],
                note=form.cleaned_data["note"],
                document=document,
            )

    if is_check(request):
        return validate(request, form, raise_veto)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                raise_veto()
            except (ValidationFailed, ConflictError) as exc:
                form.show_error(exc)
                status = exc.status
            else:
                messages.success(request, "已提出否决情形，省质量强省办将核实。")
                return redirect("evaluation:assignment-detail", uuid=uuid)
    return render(
        request,
        "evaluation/assignment_veto.html",
        {
            "assignment": assignment,
            "application": application,
            "form": form,
            "in_review": application.status == application.Status.EXPERT_REVIEW,
            "crumbs": _crumbs(assignment, ("提出否决情形", "")),
        },
        status=status,
    )


ROOT = "workspace/evaluation/assignments/"
ONE = ROOT + "<uuid:uuid>/"

urlpatterns = [
    path(ROOT, assignment_list, name="assignment-list"),
    path(ONE + "", assignment_detail, name="assignment-detail"),
    path(ONE + "accept/", assignment_accept, name="assignment-accept"),
    path(ONE + "conflict/", assignment_conflict, name="assignment-conflict"),
    path(ONE + "decline/", assignment_decline, name="assignment-decline"),
    path(ONE + "scores/", assignment_scores, name="assignment-scores"),
    path(ONE + "submit/", assignment_submit, name="assignment-submit"),
    path(ONE + "veto/", assignment_veto, name="assignment-veto"),
]
