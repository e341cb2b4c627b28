"""Workspace pages of the standards catalogue and the rule sets (评价细则).

Everyone signed in reads the catalogue and the published rule sets (applicants assess themselves
against them, experts score with them); the office maintains both. A draft rule set's page is
its editor: the indicator tree, veto items and criteria with forms to add, change and remove
items (checked inline by a dry run of the same service), and the live list of what still keeps
it from being published. Published rule sets are read-only: applications stay bound to the
version they were evaluated under, so a change makes a new version.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from haopin.core import selectors as core_selectors
from haopin.core.errors import ConflictError, NotFoundError, ValidationFailed
from haopin.core.http import HtmxHttpRequest, content_disposition
from haopin.core.listing import Column, Filter, Listing
from haopin.core.models import BrandType, Category
from haopin.core.policies import deny_unless, get_visible
from haopin.core.workspace import NavItem
from haopin.registry import views as registry_views
from haopin.registry.forms import dry_run, show_error
from haopin.standards import excel, policies, services
from haopin.standards.defaults import fill_rule_set
from haopin.standards.forms import (
    ITEM_FORMS,
    ITEM_LABELS,
    ImportForm,
    ItemForm,
    PdfForm,
    RuleSetCreateForm,
    RuleSetForm,
    StandardForm,
)
from haopin.standards.models import Criterion, Indicator, RuleSet, Standard, VetoItem

HISTORY_LIMIT = 50
# A draft collects one event per item added; the page shows the latest (the audit log has all).
RULE_SET_HISTORY_LIMIT = 20
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def signed_in(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False))


# Menu entries, registered in StandardsConfig.ready.
NAV = [
    NavItem("评价管理", "评价细则", "standards:ruleset-list", signed_in, order=50),
    NavItem("评价管理", "标准目录", "standards:standard-list", signed_in, order=60),
]


def _memo(request: HttpRequest, key: str, compute: Callable[[], Any]) -> Any:
    # Filter choices are asked for twice per request (to check the value, to draw the drop-down).
    cache = request.__dict__.setdefault("_standards_memo", {})
    if key not in cache:
        cache[key] = compute()
    return cache[key]


def _level_two_categories(request: HttpRequest) -> list[tuple[str, str]]:
    return _memo(
        request,
        "categories",
        lambda: list(
            Category.objects.filter(level=2, active=True).order_by("code").values_list("code", "name")
        ),
    )


def crumbs(obj: Any = None, *tail: tuple[str, str]) -> list[tuple[str, str]]:
    trail: list[tuple[str, str]] = []
    if isinstance(obj, Standard):
        trail = [("标准目录", reverse("standards:standard-list")), (obj.code, obj.get_absolute_url())]
    elif isinstance(obj, RuleSet):
        trail = [("评价细则", reverse("standards:ruleset-list")), (str(obj), obj.get_absolute_url())]
    return [*trail, *tail]


def history_rows(obj: Any, limit: int = HISTORY_LIMIT) -> list[Any]:
    """The object's audit events, newest first (for ``core/history.html``)."""
    return list(core_selectors.history_for(obj)[:limit])


def form_page(
    request: HtmxHttpRequest,
    form: forms.BaseForm,
    *,
    title: str,
    submit: Callable[[Any], Any],
    done: Callable[[Any], HttpResponse],
    cancel_url: str,
    trail: list[tuple[str, str]],
    submit_label: str = "保存",
    validate: bool = True,
    non_field_to: str | None = None,
    intro: str = "",
) -> HttpResponse:
    """The registry's form page (validation, htmx dry runs, errors next to the fields) with
    this domain's error placement."""
    return registry_views._form_page(
        request,
        form,
        title=title,
        submit=submit,
        done=done,
        cancel_url=cancel_url,
        trail=trail,
        submit_label=submit_label,
        validate=validate,
        non_field_to=non_field_to,
        intro=intro,
        place_error=place_error,
    )


def place_error(form: forms.BaseForm, error: Any, *, non_field_to: str | None = None) -> None:
    """``registry.forms.show_error``, and an error without details goes to ``non_field_to``."""
    if not error.details and non_field_to in form.fields:
        form.add_error(non_field_to, error.message)
    else:
        show_error(form, error, non_field_to=non_field_to)


def _maintainer(request: HttpRequest) -> None:
    deny_unless(policies.can_maintain(request.user), "只有省质量强省办可以维护标准和评价细则。")


# --- the standards catalogue ---------------------------------------------------------------------


class StandardListing(Listing):
    title = "标准目录"
    columns = [
        Column("code", "标准编号", sort="code", link=True, width=22),
        Column("title", "标准名称", sort="title", width=40),
        Column("level", "层级", sort="level", value=lambda s: s.get_level_display(), width=10),
        Column("status", "状态", sort="status", value=lambda s: s.get_status_display(), width=8),
        Column("is_haopin", "好品山东团体标准", sort="is_haopin", width=10),
        Column(
            "categories",
            "适用类别",
            value=lambda s: [c.name for c in s.categories.all()],
            width=30,
        ),
        Column("effective_on", "实施日期", sort="effective_on", width=14),
        Column("file", "标准文本", value=lambda s: "已上传" if s.file else "", width=8),
    ]
    filters = [
        Filter.lookup("level", "层级", "level", lambda request: Standard.Level.choices),
        Filter.lookup("status", "状态", "status", lambda request: Standard.Status.choices),
        Filter(
            "haopin",
            "好品山东团体标准",
            lambda request: [("yes", "是"), ("no", "否")],
            lambda qs, value: qs.filter(is_haopin=value == "yes"),
        ),
        Filter(
            "category",
            "适用类别",
            _level_two_categories,
            # A standard applies to a category or its sub-categories: one IN subquery, no join
            # that would repeat a standard once per category.
            lambda qs, code: qs.filter(
                pk__in=Standard.categories.through.objects.filter(category__code__startswith=code).values(
                    "standard_id"
                )
            ),
        ),
    ]
    search_fields = ["code", "title"]
    search_placeholder = "搜索标准编号或名称"
    default_sort = "code"
    export_name = "标准目录"

    def __init__(self, request: HttpRequest, **context: Any):
        super().__init__(request, **context)
        self.actions = []
        if policies.can_maintain(request.user):
            self.actions = [("登记标准", reverse("standards:standard-create"))]

    def queryset(self) -> QuerySet[Standard]:
        return policies.standards_for_user(self.request.user)

    def filtered(self) -> QuerySet[Standard]:
        return super().filtered().prefetch_related("categories")


@login_required
@require_GET
def standard_list(request: HttpRequest) -> HttpResponse | FileResponse:
    return StandardListing(request).response()


def _standard(user: Any, uuid: Any) -> Standard:
    return get_visible(policies.standards_for_user(user).select_related("replaced_by"), uuid=uuid)  # type: ignore[return-value]


@login_required
@require_GET
def standard_detail(request: HttpRequest, uuid: Any) -> HttpResponse:
    standard = _standard(request.user, uuid)
    return render(
        request,
        "standards/standard_detail.html",
        {
            "standard": standard,
            "crumbs": crumbs(standard),
            "categories": list(standard.categories.order_by("code")),
            "replaces": list(standard.replaces.order_by("code")),
            "history": history_rows(standard),
            "can_maintain": policies.can_maintain(request.user),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def standard_create(request: HtmxHttpRequest) -> HttpResponse:
    _maintainer(request)
    form = StandardForm(request.POST or None)

    def submit(form: StandardForm) -> Standard:
        values = form.service_values()
        return services.standard_create(
            actor=request.user,
            code=form.cleaned_data["code"],
            title=values.pop("title"),
            categories=list(form.cleaned_data["categories"]),
            **values,
        )

    def done(standard: Standard) -> HttpResponse:
        messages.success(request, f"已登记标准“{standard.code}”。")
        return redirect(standard.get_absolute_url())

    return form_page(
        request,
        form,
        title="登记标准",
        submit=submit,
        done=done,
        cancel_url=reverse("standards:standard-list"),
        submit_label="登记",
        trail=[("标准目录", reverse("standards:standard-list")), ("登记标准", "")],
    )


@login_required
@require_http_methods(["GET", "POST"])
def standard_edit(request: HtmxHttpRequest, uuid: Any) -> HttpResponse:
    standard = _standard(request.user, uuid)
    _maintainer(request)
    form = StandardForm(request.POST or None, instance=standard)

    def done(standard: Standard) -> HttpResponse:
        messages.success(request, "标准信息已保存。")
        return redirect(standard.get_absolute_url())

    return form_page(
        request,
        form,
        title=f"修改标准：{standard.code}",
        submit=lambda form: services.standard_update(
            actor=request.user,
            standard=standard,
            categories=list(form.cleaned_data["categories"]),
            **form.service_values(),
        ),
        done=done,
        cancel_url=standard.get_absolute_url(),
        trail=crumbs(standard, ("修改", "")),
    )


@login_required
@require_http_methods(["GET", "POST"])
def standard_file(request: HtmxHttpRequest, uuid: Any) -> HttpResponse:
    standard = _standard(request.user, uuid)
    _maintainer(request)
    form = PdfForm(request.POST or None, request.FILES or None)

    def done(standard: Standard) -> HttpResponse:
        messages.success(request, "标准文本已上传。")
        return redirect(standard.get_absolute_url())

    return form_page(
        request,
        form,
        title=f"上传标准文本：{standard.code}",
        submit=lambda form: services.standard_attach_file(
            actor=request.user, standard=standard, upload=form.cleaned_data["file"]
        ),
        done=done,
        cancel_url=standard.get_absolute_url(),
        trail=crumbs(standard, ("上传标准文本", "")),
        submit_label="上传",
        validate=False,
    )


@login_required
@require_GET
def standard_file_download(request: HttpRequest, uuid: Any) -> FileResponse:
    standard = _standard(request.user, uuid)
    if not standard.file:
        raise NotFoundError("该标准尚未上传文本。")
    try:
        handle = standard.file.open("rb")
    except FileNotFoundError as exc:
        raise NotFoundError("标准文本文件已不存在，请重新上传。") from exc
    response = FileResponse(handle, content_type="application/pdf")
    name = f"{standard.code}.pdf".replace("/", "-")
    response["Content-Disposition"] = content_disposition(name, inline=True)
    response["X-Content-Type-Options"] = "nosniff"
    # An uploaded file is never a page of ours: no scripts, even if opened inline.
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


# --- rule sets: the list ---------------------------------------------------------------------------


class RuleSetListing(Listing):
    title = "评价细则"
    columns = [
        Column("title", "名称", sort="title", link=True, width=30),
        Column("category", "适用类别", sort="category__code", value=lambda r: r.category.name, width=16),
        Column(
            "brand_type", "品牌类型", sort="brand_type__position", value=lambda r: r.brand_type.name, width=12
        ),
        Column("version", "版本", sort="version", value=lambda r: f"第 {r.version} 版", width=8),
        Column("status", "状态", sort="status", value=lambda r: r.get_status_display(), width=8),
        Column(
            "pass_line",
            "合格分数线",
            sort="pass_line",
            value=lambda r: services.score_text(r.pass_line),
            width=10,
        ),
        Column("published_at", "发布时间", sort="published_at", width=20),
        Column("updated_at", "更新时间", sort="updated_at", width=20),
    ]
    filters = [
        Filter(
            "category",
            "适用类别",
            _level_two_categories,
            lambda qs, code: qs.filter(category__in=Category.objects.filter(code__startswith=code)),
        ),
        Filter(
            "type",
            "品牌类型",
            lambda request: _memo(
                request, "types", lambda: list(BrandType.objects.values_list("code", "name"))
            ),
            lambda qs, code: qs.filter(brand_type__in=BrandType.objects.filter(code=code)),
        ),
        Filter.lookup("status", "状态", "status", lambda request: RuleSet.Status.choices),
    ]
    search_fields = ["title"]
    search_placeholder = "搜索细则名称"
    default_sort = "category__code"
    select_related = ["category", "brand_type"]
    export_name = "评价细则"

    def __init__(self, request: HttpRequest, **context: Any):
        super().__init__(request, **context)
        self.actions = []
        if policies.can_maintain(request.user):
            self.actions = [("新建评价细则", reverse("standards:ruleset-create"))]

    def queryset(self) -> QuerySet[RuleSet]:
        return policies.rule_sets_for_user(self.request.user)

    def filtered(self) -> QuerySet[RuleSet]:
        qs = super().filtered()
        if self.sort_key() == self.default_sort:
            # By category, then brand type, newest version first: the versions of one set
            # stand together.
            qs = qs.order_by("category__code", "brand_type__position", "-version", "pk")
        return qs


@login_required
@require_GET
def ruleset_list(request: HttpRequest) -> HttpResponse | FileResponse:
    return RuleSetListing(request).response()


# --- rule sets: the page and the editor ---------------------------------------------------------------


def _rule_set(user: Any, uuid: Any) -> RuleSet:
    queryset = policies.rule_sets_for_user(user).select_related("category", "brand_type", "based_on")
    return get_visible(queryset, uuid=uuid)  # type: ignore[return-value]


def _require_draft(rule_set: RuleSet) -> None:
    if not rule_set.is_editable:
        raise ConflictError(
            f"“{rule_set}”已{rule_set.get_status_display()}，不可修改；如需调整，请创建新版本。",
            code="ruleset_frozen",
        )


def _tree(rule_set: RuleSet) -> tuple[list[dict[str, Any]], Decimal]:
    """The dimensions, each with its indicators and their subtotal, and the dimensions' total."""
    indicators = list(rule_set.indicators.order_by("position", "code"))
    dimensions = []
    total = Decimal("0")
    for dimension in (i for i in indicators if i.parent_id is None):
        children = [i for i in indicators if i.parent_id == dimension.pk]
        subtotal = sum((c.max_score for c in children), Decimal("0"))
        total += dimension.max_score
        dimensions.append(
            {
                "item": dimension,
                "children": children,
                "subtotal": subtotal,
                "balanced": bool(children) and subtotal == dimension.max_score,
            }
        )
    return dimensions, total


def _criterion_rule(criterion: Criterion) -> str:
    if not criterion.metric:
        return "人工审查"
    label = criterion.get_metric_display()
    if criterion.operator == Criterion.Operator.IS_TRUE:
        return f"自动：{label}"
    threshold = services.score_text(criterion.threshold) if criterion.threshold is not None else "？"
    return f"自动：{label} {criterion.get_operator_display()} {threshold}"


def ruleset_context(request: HttpRequest, rule_set: RuleSet, bound: ItemForm | None = None) -> dict[str, Any]:
    """What the rule set's page shows; ``bound`` is an add form with errors to show in place."""
    user = request.user
    editable = rule_set.is_editable and policies.can_maintain(user)
    dimensions, total = _tree(rule_set)
    add_forms: dict[str, ItemForm] = {}
    if editable:
        for kind, form_class in ITEM_FORMS.items():
            add_forms[kind] = (
                bound if bound is not None and bound.kind == kind else form_class(rule_set=rule_set)
            )
    versions = list(
        policies.rule_sets_for_user(user)
        .filter(category=rule_set.category_id, brand_type=rule_set.brand_type_id)
        .order_by("-version")
    )
    draft = next((v for v in versions if v.status == RuleSet.Status.DRAFT), None)
    criteria = list(rule_set.criteria.all())
    return {
        "rule_set": rule_set,
        "crumbs": crumbs(rule_set),
        "dimensions": dimensions,
        "total": total,
        "leaf_count": sum(len(d["children"]) for d in dimensions),
        "veto_items": list(rule_set.veto_items.all()),
        "criteria": [(c, _criterion_rule(c)) for c in criteria],
        "problems": services.ruleset_problems(rule_set) if rule_set.is_editable else [],
        "editable": editable,
        "add_forms": add_forms,
        "versions": versions,
        "other_draft": draft if draft is not None and draft.pk != rule_set.pk else None,
        "can_maintain": policies.can_maintain(user),
        "history": history_rows(rule_set, RULE_SET_HISTORY_LIMIT),
    }


def _render_ruleset(
    request: HttpRequest, rule_set: RuleSet, bound: ItemForm | None = None, status: int = 200
):
    return render(
        request, "standards/ruleset_detail.html", ruleset_context(request, rule_set, bound), status=status
    )


@login_required
@require_GET
def ruleset_detail(request: HttpRequest, uuid: Any) -> HttpResponse:
    return _render_ruleset(request, _rule_set(request.user, uuid))


@login_required
@require_http_methods(["GET", "POST"])
def ruleset_create(request: HtmxHttpRequest) -> HttpResponse:
    _maintainer(request)
    form = RuleSetCreateForm(request.POST or None)

    def create(form: RuleSetCreateForm) -> RuleSet:
        return services.ruleset_create(actor=request.user, **form.service_values())

    @transaction.atomic
    def submit(form: RuleSetCreateForm) -> RuleSet:
        rule_set = create(form)
        if form.cleaned_data["start"] == "model":
            fill_rule_set(actor=request.user, rule_set=rule_set)
        return rule_set

    def done(rule_set: RuleSet) -> HttpResponse:
        messages.success(request, f"已创建“{rule_set}”（草稿）。请完善指标后发布。")
        return redirect(rule_set.get_absolute_url())

    checking = request.method == "POST" and bool(request.htmx) and request.POST.get("_validate") == "1"
    return form_page(
        request,
        form,
        title="新建评价细则",
        # The inline check only needs the creation's rules (a draft already exists, …).
        submit=create if checking else submit,
        done=done,
        cancel_url=reverse("standards:ruleset-list"),
        submit_label="创建草稿",
        non_field_to="category",
        trail=[("评价细则", reverse("standards:ruleset-list")), ("新建评价细则", "")],
        intro="新细则为草稿，可以随时修改；发布后内容锁定，调整时须创建新版本。",
    )


@login_required
@require_http_methods(["GET", "POST"])
def ruleset_edit(request: HtmxHttpRequest, uuid: Any) -> HttpResponse:
    rule_set = _rule_set(request.user, uuid)
    _maintainer(request)
    _require_draft(rule_set)
    form = RuleSetForm(request.POST or None, instance=rule_set)

    def done(rule_set: RuleSet) -> HttpResponse:
        messages.success(request, "评价细则信息已保存。")
        return redirect(rule_set.get_absolute_url())

    return form_page(
        request,
        form,
        title=f"修改评价细则：{rule_set}",
        submit=lambda form: services.ruleset_update(
            actor=request.user, rule_set=rule_set, **form.service_values()
        ),
        done=done,
        cancel_url=rule_set.get_absolute_url(),
        trail=crumbs(rule_set, ("修改基本信息", "")),
    )


def _item_kind(kind: str) -> type[ItemForm]:
    if kind not in ITEM_FORMS:
        raise Http404
    return ITEM_FORMS[kind]


def _item(rule_set: RuleSet, kind: str, pk: int) -> Any:
    by_kind: dict[str, type[Indicator] | type[VetoItem] | type[Criterion]] = {
        "indicator": Indicator,
        "veto": VetoItem,
        "criterion": Criterion,
    }
    model = by_kind[kind]
    item = model.objects.filter(rule_set=rule_set, pk=pk).first()
    if item is None:
        raise NotFoundError("该条目不存在，可能已被删除。")
    return item


def _item_page(
    request: HttpRequest, rule_set: RuleSet, form: ItemForm, *, title: str, status: int, checking: bool
) -> HttpResponse:
    context = {
        "title": title,
        "form": form,
        "validate_url": request.path,
        "cancel_url": rule_set.get_absolute_url() + f"#{form.kind}",
        "submit_label": "保存",
        "crumbs": crumbs(rule_set, (title, "")),
    }
    template = "registry/form.html#form" if checking else "registry/form.html"
    return render(request, template, context, status=200 if checking else status)


@login_required
@require_http_methods(["GET", "POST"])
def ruleset_item_add(request: HtmxHttpRequest, uuid: Any, kind: str) -> HttpResponse:
    """Add an item to a draft. From the editor page (htmx) an invalid form comes back in place
    on the editor; without JavaScript it comes back on a page of its own."""
    form_class = _item_kind(kind)
    rule_set = _rule_set(request.user, uuid)
    _maintainer(request)
    _require_draft(rule_set)
    form = form_class(request.POST or None, rule_set=rule_set)
    title = f"新增{ITEM_LABELS[kind]}"
    checking = bool(request.htmx) and request.POST.get("_validate") == "1"
    if request.method == "GET":
        return _item_page(request, rule_set, form, title=title, status=200, checking=False)
    status = 422
    if form.is_valid():

        def submit() -> Any:
            return services.ruleset_item_add(
                actor=request.user, rule_set=rule_set, kind=kind, **form.service_values()
            )

        try:
            if checking:
                dry_run(submit)
            else:
                item = submit()
                if not request.htmx:
                    messages.success(request, f"已新增{ITEM_LABELS[kind]}“{item.code}”。")
                return redirect(rule_set.get_absolute_url() + f"#{kind}")
        except (ValidationFailed, ConflictError) as exc:
            place_error(form, exc, non_field_to="code")
            status = exc.status
    if request.htmx and not checking:
        return _render_ruleset(request, rule_set, bound=form)
    return _item_page(request, rule_set, form, title=title, status=status, checking=checking)


@login_required
@require_http_methods(["GET", "POST"])
def ruleset_item_edit(request: HtmxHttpRequest, uuid: Any, kind: str, pk: int) -> HttpResponse:
    form_class = _item_kind(kind)
    rule_set = _rule_set(request.user, uuid)
    _maintainer(request)
    _require_draft(rule_set)
    item = _item(rule_set, kind, pk)
    form = form_class(request.POST or None, instance=item, rule_set=rule_set)
    title = f"修改{ITEM_LABELS[kind]}“{item.code}”"
    checking = bool(request.htmx) and request.POST.get("_validate") == "1"
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():

            def submit() -> Any:
                return services.ruleset_item_update(actor=request.user, item=item, **form.service_values())

            try:
                if checking:
                    dry_run(submit)
                else:
                    submit()
                    messages.success(request, f"已保存{ITEM_LABELS[kind]}“{form.cleaned_data['code']}”。")
                    return redirect(rule_set.get_absolute_url() + f"#{kind}")
            except (ValidationFailed, ConflictError) as exc:
                place_error(form, exc, non_field_to="code")
                status = exc.status
    return _item_page(request, rule_set, form, title=title, status=status, checking=checking)


@login_required
@require_http_methods(["GET", "POST"])
def ruleset_item_remove(request: HtmxHttpRequest, uuid: Any, kind: str, pk: int) -> HttpResponse:
    """Remove an item; a GET (the link without JavaScript) asks first."""
    _item_kind(kind)
    rule_set = _rule_set(request.user, uuid)
    _maintainer(request)
    _require_draft(rule_set)
    item = _item(rule_set, kind, pk)
    if request.method == "GET":
        title = f"删除{ITEM_LABELS[kind]}“{item.code}”"
        return render(
            request,
            "standards/ruleset_item_remove.html",
            {
                "title": title,
                "rule_set": rule_set,
                "item": item,
                "children": item.children.count() if kind == "indicator" else 0,
                "cancel_url": rule_set.get_absolute_url() + f"#{kind}",
                "crumbs": crumbs(rule_set, (title, "")),
            },
        )
    services.ruleset_item_remove(actor=request.user, item=item)
    if not request.htmx:
        messages.success(request, f"已删除{ITEM_LABELS[kind]}“{item.code}”。")
    return redirect(rule_set.get_absolute_url() + f"#{kind}")


@login_required
@require_POST
def ruleset_publish(request: HttpRequest, uuid: Any) -> HttpResponse:
    rule_set = _rule_set(request.user, uuid)
    _maintainer(request)
    try:
        services.ruleset_publish(actor=request.user, rule_set=rule_set)
    except ValidationFailed as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"“{rule_set}”已发布，内容已锁定。")
    return redirect(rule_set.get_absolute_url())


@login_required
@require_POST
def ruleset_new_version(request: HttpRequest, uuid: Any) -> HttpResponse:
    rule_set = _rule_set(request.user, uuid)
    _maintainer(request)
    try:
        draft = services.ruleset_new_version(actor=request.user, rule_set=rule_set)
    except ConflictError as exc:
        messages.error(request, exc.message)
        return redirect(rule_set.get_absolute_url())
    messages.success(request, f"已创建第 {draft.version} 版草稿，内容复制自第 {rule_set.version} 版。")
    return redirect(draft.get_absolute_url())


@login_required
@require_POST
def ruleset_retire(request: HttpRequest, uuid: Any) -> HttpResponse:
    rule_set = _rule_set(request.user, uuid)
    _maintainer(request)
    try:
        services.ruleset_retire(actor=request.user, rule_set=rule_set)
    except ConflictError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"“{rule_set}”已停用：新批次不能再选用它，已按它评价的申报不受影响。")
    return redirect(rule_set.get_absolute_url())


@login_required
@require_GET
def ruleset_export(request: HttpRequest, uuid: Any) -> HttpResponse:
    rule_set = _rule_set(request.user, uuid)
    response = HttpResponse(excel.export(rule_set), content_type=XLSX)
    name = f"评价细则-{rule_set.category.name}-{rule_set.brand_type.name}-第{rule_set.version}版.xlsx"
    response["Content-Disposition"] = content_disposition(name)
    return response


@login_required
@require_http_methods(["GET", "POST"])
def ruleset_import(request: HttpRequest, uuid: Any) -> HttpResponse:
    rule_set = _rule_set(request.user, uuid)
    _maintainer(request)
    _require_draft(rule_set)
    form = ImportForm(request.POST or None, request.FILES or None)
    errors: list[dict[str, Any]] = []
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                excel.ruleset_import(actor=request.user, rule_set=rule_set, upload=form.cleaned_data["file"])
            except ValidationFailed as exc:
                errors = list(exc.details.get("errors", []))
                form.add_error(None if errors else "file", exc.message)
            else:
                messages.success(request, "已按文件替换本草稿的指标、否决项和资格条件。")
                return redirect(rule_set.get_absolute_url())
    return render(
        request,
        "standards/ruleset_import.html",
        {
            "rule_set": rule_set,
            "form": form,
            "errors": errors,
            "crumbs": crumbs(rule_set, ("导入 Excel", "")),
        },
        status=status,
    )
