"""Workspace pages of the registry: enterprises, brands, products and documents.

Thin views: find the object through a selector (invisible → 404), ask ``registry.policies``
(forbidden → 403), call a service, render. Forms are re-shown with the service's messages next
to their fields; with htmx, a field is checked on change by a dry run of the same service.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from haopin.core import selectors as core_selectors
from haopin.core.errors import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ValidationFailed,
)
from haopin.core.http import HtmxHttpRequest, content_disposition
from haopin.core.listing import Column, Filter, Listing
from haopin.core.models import BrandType, Category, Region, SourceProgramme, Tier
from haopin.core.policies import ScopeKind, deny_unless, scope_of
from haopin.core.workspace import TodoItem
from haopin.registry import policies, selectors, services
from haopin.registry.forms import (
    BrandForm,
    BrandSourceForm,
    DocumentForm,
    EnterpriseForm,
    LogoForm,
    ProductForm,
    dry_run,
    show_error,
)
from haopin.registry.models import Brand, BrandSource, Enterprise, Product

HISTORY_LIMIT = 50


def crumbs(obj: Any = None, *tail: tuple[str, str]) -> list[tuple[str, str]]:
    """The trail above a page: the list, the object (and a product's brand), then ``tail``."""
    trail: list[tuple[str, str]] = []
    if isinstance(obj, Enterprise):
        trail = [("企业", reverse("registry:enterprise-list")), (obj.name, obj.get_absolute_url())]
    elif isinstance(obj, Brand):
        trail = [("品牌", reverse("registry:brand-list")), (obj.name, obj.get_absolute_url())]
    elif isinstance(obj, Product):
        trail = [
            ("产品与服务", reverse("registry:product-list")),
            (obj.brand.name, obj.brand.get_absolute_url()),
            (str(obj), obj.get_absolute_url()),
        ]
    return [*trail, *tail]


def _memo(request: HttpRequest, key: str, compute: Callable[[], Any]) -> Any:
    """Filter choices are asked for twice per request (to check the value, to draw the
    drop-down); compute them once."""
    cache = request.__dict__.setdefault("_registry_memo", {})
    if key not in cache:
        cache[key] = compute()
    return cache[key]


def _city_choices(request: HttpRequest) -> list[tuple[str, str]]:
    return _memo(request, "cities", lambda: core_selectors.region_choices(request.user, levels=("city",)))


def _ids(queryset: QuerySet) -> list[int]:
    """Primary keys of a small reference queryset, looked up before filtering.

    Filters compare the registry's foreign keys with literal ids rather than ``IN (subquery)``:
    the planner then uses the (column, updated_at) indexes even for rare values (measured on
    100,000 brands: brands of a rare type 58 ms with the subquery, 0.1 ms with the literal id).
    """
    return list(queryset.values_list("pk", flat=True))


def _in_city(field: str) -> Callable[[QuerySet, str], QuerySet]:
    return lambda qs, code: qs.filter(
        **{f"{field}__in": _ids(Region.objects.filter(code__startswith=code[:4]))}
    )


# --- lists -------------------------------------------------------------------------------------


class EnterpriseListing(Listing):
    title = "企业"
    columns = [
        Column("name", "企业名称", sort="name", link=True, width=36),
        Column("uscc", "统一社会信用代码", sort="uscc", width=22),
        Column("region", "所在区划", sort="region__code", value=lambda e: e.region.full_name, width=18),
        Column("industry_code", "行业代码（GB/T 4754）", sort="industry_code", width=12),
        Column("size", "企业规模", sort="size", value=lambda e: e.get_size_display(), width=10),
        Column("brands", "品牌数", value=lambda e: len(e.visible_brands), width=8),
        Column("updated_at", "更新时间", sort="updated_at", width=20),
    ]
    filters = [
        Filter("city", "所在城市", _city_choices, _in_city("region")),
        Filter.lookup("size", "企业规模", "size", lambda request: Enterprise.Size.choices),
        Filter(
            "info",
            "信息完整性",
            lambda request: [("incomplete", "缺法定代表人或行业代码")],
            lambda qs, value: qs.filter(Q(legal_representative="") | Q(industry_code="")),
        ),
    ]
    search_kind = "registry.enterprise"  # name, legal representative, credit code
    search_placeholder = "企业名称、法定代表人、信用代码或拼音"
    # Newest changes first: code-point order of Chinese names means little to a reader, and
    # "what changed lately" is what a workspace list is opened for.
    default_sort = "-updated_at"
    export_name = "企业名录"

    def __init__(self, request: HttpRequest, **context: Any):
        super().__init__(request, **context)
        self.actions = []
        if policies.can_create_enterprise(request.user):
            self.actions = [("登记企业", reverse("registry:enterprise-create"))]

    def queryset(self) -> QuerySet[Enterprise]:
        return selectors.enterprise_rows_for_user(self.request.user)


class BrandListing(Listing):
    title = "品牌"
    columns = [
        Column("name", "品牌名称", sort="name", link=True, width=24),
        Column("owner", "品牌主体", sort="owner__name", value=lambda b: b.owner.name, width=32),
        Column("brand_type", "品牌类型", sort="brand_type__position", value=lambda b: b.brand_type.name),
        Column("category", "所属类别", sort="category__code", value=lambda b: b.category.name),
        Column("region", "所属区划", sort="region__code", value=lambda b: b.region.full_name, width=18),
        Column("tier", "品牌层级", sort="tier__rank", value=lambda b: b.tier.name, width=14),
        Column("status", "状态", sort="status", value=lambda b: b.get_status_display(), width=8),
        Column("updated_at", "更新时间", sort="updated_at", width=20),
    ]
    filters = [
        Filter(
            "type",
            "品牌类型",
            lambda request: _memo(
                request, "types", lambda: list(BrandType.objects.values_list("code", "name"))
            ),
            lambda qs, code: qs.filter(brand_type_id__in=_ids(BrandType.objects.filter(code=code))),
        ),
        Filter(
            "tier",
            "品牌层级",
            lambda request: _memo(request, "tiers", lambda: list(Tier.objects.values_list("code", "name"))),
            lambda qs, code: qs.filter(tier_id__in=_ids(Tier.objects.filter(code=code))),
        ),
        Filter(
            "category",
            "所属类别",
            lambda request: _memo(
                request,
                "categories",
                lambda: list(Category.objects.filter(level=2, active=True).values_list("code", "name")),
            ),
            lambda qs, code: qs.filter(category_id__in=_ids(Category.objects.filter(code__startswith=code))),
        ),
        Filter("city", "所属城市", _city_choices, _in_city("region")),
        Filter(
            "source",
            "来源项目",
            lambda request: _memo(
                request, "programmes", lambda: list(SourceProgramme.objects.values_list("code", "name"))
            ),
            # pk IN (brands of the programme) walks the (programme, brand) index once; an
            # EXISTS per brand was measured 4× slower on 100,000 brands.
            lambda qs, code: qs.filter(
                pk__in=BrandSource.objects.filter(programme__code=code).values("brand_id")
            ),
        ),
        Filter.lookup("status", "状态", "status", lambda request: Brand.Status.choices),
        Filter(
            "products",
            "产品",
            lambda request: [("none", "尚未登记产品")],
            lambda qs, value: qs.filter(~Exists(Product.objects.filter(brand_id=OuterRef("pk")))),
        ),
    ]
    search_kind = "registry.brand"  # name, English name, owner's name
    search_placeholder = "品牌名称、英文名、品牌主体或拼音"
    # Newest changes first (see EnterpriseListing); this walks the updated_at index and stops
    # after one page, where sorting 100,000 names needs a full sort.
    default_sort = "-updated_at"
    export_name = "品牌名录"

    def __init__(self, request: HttpRequest, **context: Any):
        super().__init__(request, **context)
        self.actions = []
        if scope_of(request.user).can_write and scope_of(request.user).kind != ScopeKind.NONE:
            self.actions = [("登记品牌", reverse("registry:brand-create"))]

    def queryset(self) -> QuerySet[Brand]:
        return selectors.brand_rows_for_user(self.request.user)


class ProductListing(Listing):
    title = "产品与服务"
    columns = [
        Column("name", "名称", sort="name", link=True, width=24),
        Column("specification", "规格型号", sort="specification", width=18),
        Column("kind", "类型", sort="kind", value=lambda p: p.get_kind_display(), width=8),
        Column("brand", "品牌", sort="brand__name", value=lambda p: p.brand.name, width=20),
        Column("owner", "品牌主体", value=lambda p: p.brand.owner.name, width=32),
        Column("gtin", "商品条码", sort="gtin", width=16),
        Column("standard_codes", "执行标准", width=30),
    ]
    filters = [
        Filter.lookup("kind", "类型", "kind", lambda request: Product.Kind.choices),
        Filter("city", "所属城市", _city_choices, _in_city("brand__region")),
    ]
    search_kind = "registry.product"  # name, specification, brand's name, GTIN
    search_placeholder = "名称、规格、品牌、商品条码或拼音"
    default_sort = "name"
    export_name = "产品与服务"

    def queryset(self) -> QuerySet[Product]:
        return selectors.product_rows_for_user(self.request.user)


@login_required
@require_GET
def enterprise_list(request: HttpRequest) -> HttpResponse | FileResponse:
    return EnterpriseListing(request).response()


@login_required
@require_GET
def brand_list(request: HttpRequest) -> HttpResponse | FileResponse:
    return BrandListing(request).response()


@login_required
@require_GET
def product_list(request: HttpRequest) -> HttpResponse | FileResponse:
    return ProductListing(request).response()


# --- forms -------------------------------------------------------------------------------------


def _form_page(
    request: HtmxHttpRequest,
    form: forms.BaseForm,
    *,
    title: str,
    submit: Callable[[Any], Any],
    done: Callable[[Any], HttpResponse],
    cancel_url: str,
    submit_label: str = "保存",
    validate: bool = True,
    non_field_to: str | None = None,
    intro: str = "",
    obj: Any = None,
    trail: list[tuple[str, str]] | None = None,
    place_error: Callable[..., None] = show_error,
) -> HttpResponse:
    """Show ``form``; on POST validate it, call ``submit(form)`` (a service) and ``done``.

    An htmx request carrying ``_validate`` runs the service in a dry run and answers with the
    form (each field's wrapper selects its own part); nothing is saved. The other domains'
    workspace forms use it too (``standards.views.form_page``).
    """
    status = 200
    checking = request.method == "POST" and bool(request.htmx) and request.POST.get("_validate") == "1"
    if request.method == "POST":
        if form.is_valid():
            try:
                if checking:
                    dry_run(lambda: submit(form))
                else:
                    return done(submit(form))
            except (ValidationFailed, ConflictError, PermissionDeniedError) as exc:
                # A PermissionDeniedError here is about the values entered (a tier or a region
                # outside the user's scope); the action itself was allowed before the form.
                place_error(form, exc, non_field_to=non_field_to)
                status = exc.status
        else:
            status = 422
    if checking:
        status = 200  # htmx swaps only successful responses
    page = {
        "title": title,
        "form": form,
        "cancel_url": cancel_url,
        "submit_label": submit_label,
        "validate_url": request.path if validate else "",
        "multipart": form.is_multipart(),
        "intro": intro,
        "object": obj,
        "crumbs": trail if trail is not None else crumbs(obj, (title, "")),
    }
    template = "registry/form.html#form" if checking else "registry/form.html"
    return render(request, template, page, status=status)


def _saved(request: HttpRequest, message: str) -> Callable[[Any], HttpResponse]:
    def done(obj: Any) -> HttpResponse:
        messages.success(request, message)
        return redirect(obj.get_absolute_url())

    return done


@login_required
@require_http_methods(["GET", "POST"])
def enterprise_create(request: HtmxHttpRequest) -> HttpResponse:
    deny_unless(policies.can_create_enterprise(request.user), "您无权登记企业。")
    form = EnterpriseForm(request.POST or None, user=request.user)

    def submit(form: EnterpriseForm) -> Enterprise:
        return services.enterprise_create(
            actor=request.user, uscc=form.cleaned_data["uscc"], **form.service_values()
        )

    def done(enterprise: Enterprise) -> HttpResponse:
        messages.success(request, f"已登记企业“{enterprise.name}”。")
        if policies.can(request.user, "view", enterprise):
            return redirect(enterprise.get_absolute_url())
        # A department sees an enterprise through the brands it manages: continue with one.
        messages.info(request, "请为该企业登记品牌；登记后即可在企业列表中看到它。")
        return redirect(reverse("registry:brand-create") + "?" + urlencode({"owner": enterprise.uscc}))

    return _form_page(
        request,
        form,
        title="登记企业",
        submit=submit,
        done=done,
        cancel_url=reverse("registry:enterprise-list"),
        submit_label="登记",
        trail=[("企业", reverse("registry:enterprise-list")), ("登记企业", "")],
    )


@login_required
@require_http_methods(["GET", "POST"])
def enterprise_edit(request: HtmxHttpRequest, uuid: Any) -> HttpResponse:
    enterprise = selectors.enterprise_get_for_user(request.user, uuid)
    deny_unless(policies.can(request.user, "change", enterprise), "您无权修改该企业信息。")
    form = EnterpriseForm(request.POST or None, instance=enterprise, user=request.user)
    return _form_page(
        request,
        form,
        title=f"修改企业信息：{enterprise.name}",
        submit=lambda form: services.enterprise_update(
            actor=request.user, enterprise=enterprise, **form.service_values()
        ),
        done=_saved(request, "企业信息已保存。"),
        cancel_url=enterprise.get_absolute_url(),
        obj=enterprise,
    )


def _brand_form_page(request: HtmxHttpRequest, owner: Enterprise | None) -> HttpResponse:
    initial = {}
    if owner is None and request.method == "GET" and request.GET.get("owner"):
        initial["owner_uscc"] = request.GET["owner"][:30]
    form = BrandForm(request.POST or None, user=request.user, owner=owner, initial=initial)

    def submit(form: BrandForm) -> Brand:
        assert form.owner is not None  # a valid form has its owner (given, or found from owner_uscc)
        return services.brand_create(actor=request.user, owner=form.owner, **form.service_values())

    return _form_page(
        request,
        form,
        title=f"登记品牌：{owner.name}" if owner else "登记品牌",
        submit=submit,
        done=_saved(request, "品牌已登记。"),
        cancel_url=owner.get_absolute_url() if owner else reverse("registry:brand-list"),
        submit_label="登记",
        non_field_to="name",
        intro=""
        if "tier" in form.fields
        else "新登记的品牌列入培育库；品牌层级由省质量强省办根据评价结果调整。",
        trail=crumbs(owner, ("登记品牌", ""))
        if owner
        else [("品牌", reverse("registry:brand-list")), ("登记品牌", "")],
    )


@login_required
@require_http_methods(["GET", "POST"])
def brand_create(request: HtmxHttpRequest) -> HttpResponse:
    scope = scope_of(request.user)
    deny_unless(scope.can_write and scope.kind != ScopeKind.NONE, "您无权登记品牌。")
    owner = None
    if scope.kind == ScopeKind.ORGANISATION:
        # An enterprise registers brands for itself only.
        owner = policies.enterprises_for_user(request.user).first()
        deny_unless(owner is not None, "您的单位尚未关联企业档案，请联系所在地市场监管部门。")
    return _brand_form_page(request, owner)


@login_required
@require_http_methods(["GET", "POST"])
def enterprise_brand_create(request: HtmxHttpRequest, uuid: Any) -> HttpResponse:
    owner = selectors.enterprise_get_for_user(request.user, uuid)
    deny_unless(policies.can(request.user, "add_brand", owner), "您无权为该企业登记品牌。")
    return _brand_form_page(request, owner)


@login_required
@require_http_methods(["GET", "POST"])
def brand_edit(request: HtmxHttpRequest, uuid: Any) -> HttpResponse:
    brand = selectors.brand_get_for_user(request.user, uuid)
    deny_unless(policies.can(request.user, "change", brand), "您无权修改该品牌。")
    form = BrandForm(request.POST or None, instance=brand, user=request.user)
    return _form_page(
        request,
        form,
        title=f"修改品牌：{brand.name}",
        submit=lambda form: services.brand_update(actor=request.user, brand=brand, **form.service_values()),
        done=_saved(request, "品牌信息已保存。"),
        cancel_url=brand.get_absolute_url(),
        non_field_to="name",
        obj=brand,
    )


@login_required
@require_http_methods(["GET", "POST"])
def brand_source_add(request: HtmxHttpRequest, uuid: Any) -> HttpResponse:
    brand = selectors.brand_get_for_user(request.user, uuid)
    deny_unless(policies.can(request.user, "change", brand), "您无权修改该品牌。")
    form = BrandSourceForm(request.POST or None, request.FILES or None)

    @transaction.atomic
    def submit(form: BrandSourceForm) -> Brand:
        data = form.cleaned_data
        document = None
        existing = BrandSource.objects.filter(brand=brand, programme=data["programme"]).first()
        if data["file"]:
            document = services.document_upload(
                actor=request.user,
                upload=data["file"],
                name=data["file"].name,
                purpose="evidence",
                brand=brand,
                title=f"{brand.name} · {data['programme'].name} 证明文件",
            )
        elif existing is not None:
            document = existing.document
        services.brand_source_set(
            actor=request.user,
            brand=brand,
            programme=data["programme"],
            certificate_number=data["certificate_number"],
            year=data["year"],
            document=document,
        )
        return brand

    return _form_page(
        request,
        form,
        title=f"登记品牌来源：{brand.name}",
        submit=submit,
        done=_saved(request, "品牌来源已登记。"),
        cancel_url=brand.get_absolute_url(),
        validate=False,
        intro="已有同一来源项目的记录时，将按本次填写的内容更正。",
        obj=brand,
    )


@login_required
@require_POST
def brand_source_remove(request: HttpRequest, uuid: Any, pk: int) -> HttpResponse:
    brand = selectors.brand_get_for_user(request.user, uuid)
    source = BrandSource.objects.select_related("programme", "brand").filter(brand=brand, pk=pk).first()
    if source is None:
        raise NotFoundError()
    deny_unless(policies.can(request.user, "change", brand), "您无权修改该品牌。")
    services.brand_source_remove(actor=request.user, source=source)
    messages.success(request, f"已删除来源“{source.programme.name}”。")
    return redirect(brand.get_absolute_url())


@login_required
@require_http_methods(["GET", "POST"])
def brand_logo(request: HtmxHttpRequest, uuid: Any) -> HttpResponse:
    brand = selectors.brand_get_for_user(request.user, uuid)
    deny_unless(policies.can(request.user, "upload", brand), "您无权为该品牌上传文件。")
    form = LogoForm(request.POST or None, request.FILES or None)
    return _form_page(
        request,
        form,
        title=f"上传品牌标识：{brand.name}",
        submit=lambda form: services.brand_set_logo(
            actor=request.user,
            brand=brand,
            upload=form.cleaned_data["file"],
            name=form.cleaned_data["file"].name,
        ),
        done=_saved(request, "品牌标识已更新。"),
        cancel_url=brand.get_absolute_url(),
        submit_label="上传",
        validate=False,
        obj=brand,
    )


@login_required
@require_http_methods(["GET", "POST"])
def enterprise_document_upload(request: HtmxHttpRequest, uuid: Any) -> HttpResponse:
    enterprise = selectors.enterprise_get_for_user(request.user, uuid)
    deny_unless(policies.can(request.user, "change", enterprise), "您无权为该企业上传文件。")
    form = DocumentForm(request.POST or None, request.FILES or None)

    def submit(form: DocumentForm) -> Enterprise:
        upload = form.cleaned_data["file"]
        services.document_upload(
            actor=request.user,
            upload=upload,
            name=upload.name,
            purpose=form.cleaned_data["purpose"],
            enterprise=enterprise,
            title=form.cleaned_data["title"],
        )
        return enterprise

    return _form_page(
        request,
        form,
        title=f"上传文件：{enterprise.name}",
        submit=submit,
        done=_saved(request, "文件已上传。"),
        cancel_url=enterprise.get_absolute_url(),
        submit_label="上传",
        validate=False,
        obj=enterprise,
    )


@login_required
@require_http_methods(["GET", "POST"])
def product_create(request: HtmxHttpRequest, uuid: Any) -> HttpResponse:
    brand = selectors.brand_get_for_user(request.user, uuid)
    deny_unless(policies.can(request.user, "add_product", brand), "您无权为该品牌登记产品。")
    form = ProductForm(request.POST or None, user=request.user, brand=brand)
    return _form_page(
        request,
        form,
        title=f"登记产品/服务：{brand.name}",
        submit=lambda form: services.product_create(actor=request.user, brand=brand, **form.service_values()),
        done=_saved(request, "产品/服务已登记。"),
        cancel_url=brand.get_absolute_url(),
        submit_label="登记",
        non_field_to="name",
        obj=brand,
    )


@login_required
@require_http_methods(["GET", "POST"])
def product_edit(request: HtmxHttpRequest, uuid: Any) -> HttpResponse:
    product = selectors.product_get_for_user(request.user, uuid)
    deny_unless(policies.can(request.user, "change", product), "您无权修改该产品。")
    form = ProductForm(request.POST or None, instance=product, user=request.user, brand=product.brand)
    return _form_page(
        request,
        form,
        title=f"修改产品/服务：{product}",
        submit=lambda form: services.product_update(
            actor=request.user, product=product, **form.service_values()
        ),
        done=_saved(request, "产品/服务已保存。"),
        cancel_url=product.get_absolute_url(),
        non_field_to="name",
        obj=product,
    )


@login_required
@require_http_methods(["GET", "POST"])
def product_delete(request: HttpRequest, uuid: Any) -> HttpResponse:
    product = selectors.product_get_for_user(request.user, uuid)
    deny_unless(policies.can(request.user, "delete", product), "您无权删除该产品。")
    if request.method == "POST":
        brand = product.brand
        services.product_delete(actor=request.user, product=product)
        messages.success(request, f"已删除“{product}”。")
        return redirect(brand.get_absolute_url())
    return render(
        request, "registry/product_delete.html", {"product": product, "crumbs": crumbs(product, ("删除", ""))}
    )


# --- object pages ------------------------------------------------------------------------------


def _history(obj: Any) -> list[Any]:
    return list(core_selectors.history_for(obj)[:HISTORY_LIMIT])


@login_required
@require_GET
def enterprise_detail(request: HttpRequest, uuid: Any) -> HttpResponse:
    user = request.user
    enterprise = selectors.enterprise_get_for_user(user, uuid)
    can_change = policies.can(user, "change", enterprise)
    return render(
        request,
        "registry/enterprise_detail.html",
        {
            "enterprise": enterprise,
            "crumbs": crumbs(enterprise),
            "brands": list(selectors.enterprise_brands_for_user(user, enterprise)),
            "documents": list(selectors.enterprise_documents_for_user(user, enterprise)),
            "history": _history(enterprise),
            "can_change": can_change,
            "can_upload": can_change,
            "can_add_brand": policies.can(user, "add_brand", enterprise),
        },
    )


@login_required
@require_GET
def brand_detail(request: HttpRequest, uuid: Any) -> HttpResponse:
    user = request.user
    brand = selectors.brand_get_for_user(user, uuid)
    sources = list(selectors.brand_sources(brand))
    visible = selectors.visible_document_ids(user, [s.document_id for s in sources] + [brand.logo_id])
    can_change = policies.can(user, "change", brand)
    return render(
        request,
        "registry/brand_detail.html",
        {
            "brand": brand,
            "crumbs": crumbs(brand),
            "sources": sources,
            "visible_documents": visible,
            "products": list(selectors.brand_products_for_user(user, brand)),
            "history": _history(brand),
            "can_change": can_change,
            "can_add_product": policies.can(user, "add_product", brand),
            "can_upload": policies.can(user, "upload", brand),
            "owner_visible": policies.can(user, "view", brand.owner),
        },
    )


@login_required
@require_GET
def product_detail(request: HttpRequest, uuid: Any) -> HttpResponse:
    user = request.user
    product = selectors.product_get_for_user(user, uuid)
    return render(
        request,
        "registry/product_detail.html",
        {
            "product": product,
            "crumbs": crumbs(product),
            "history": _history(product),
            "can_change": policies.can(user, "change", product),
            "can_delete": policies.can(user, "delete", product),
            "owner_visible": policies.can(user, "view", product.brand.owner),
        },
    )


# --- documents ---------------------------------------------------------------------------------


@login_required
@require_GET
def document_download(request: HttpRequest, uuid: Any) -> FileResponse:
    # documents_for_user is the policy's answer: whoever may not see the file gets a 404.
    document = selectors.document_get_for_user(request.user, uuid)
    try:
        handle = document.file.open("rb")
    except FileNotFoundError as exc:
        raise NotFoundError("文件已不存在，请重新上传。") from exc
    response = FileResponse(handle, content_type=document.content_type)
    response["Content-Disposition"] = content_disposition(document.original_name)
    response["X-Content-Type-Options"] = "nosniff"
    # Uploaded content is never a page of ours: no scripts, no styles, even if opened inline.
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


# --- workspace contributions (registered in apps.py) -------------------------------------------


def nav_visible(user: Any) -> bool:
    return scope_of(user).kind != ScopeKind.NONE


def todo_items(user: Any) -> list[TodoItem]:
    """What registry users should do next: for an enterprise, brands without products and a
    profile without legal representative or industry code; for a bureau, such profiles in its
    region. Read-only members have nothing to do here."""
    scope = scope_of(user)
    if not scope.can_write:
        return []
    items: list[TodoItem] = []
    if scope.kind == ScopeKind.ORGANISATION:
        items.append(
            TodoItem(
                "个品牌尚未登记产品或服务",
                selectors.brands_without_products_for_user(user, "change").count(),
                reverse("registry:brand-list") + "?products=none",
                "登记产品/服务的名称、规格、执行标准和商品条码",
            )
        )
        incomplete = selectors.enterprises_incomplete_for_user(user, "change").first()
        if incomplete is not None:
            items.append(
                TodoItem(
                    "项企业信息待完善",
                    1,
                    reverse("registry:enterprise-edit", args=[incomplete.uuid]),
                    "请填写法定代表人和国民经济行业代码（GB/T 4754）",
                )
            )
    elif scope.kind == ScopeKind.REGION:
        items.append(
            TodoItem(
                "家辖区企业信息待完善",
                selectors.enterprises_incomplete_for_user(user, "change").count(),
                reverse("registry:enterprise-list") + "?info=incomplete",
                "缺法定代表人或国民经济行业代码",
            )
        )
    return items


def home_figures(user: Any) -> list[tuple[str, int]]:
    if scope_of(user).kind == ScopeKind.NONE:
        return []
    counts = selectors.registry_counts(user)
    return [
        ("企业", counts["enterprises"]),
        ("品牌", counts["brands"]),
        ("培育库品牌", counts["pool"]),
        ("好品山东品牌", counts["member"]),
        ("标杆品牌", counts["benchmark"]),
    ]
