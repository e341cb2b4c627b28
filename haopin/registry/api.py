"""API: enterprises, brands (with their source programmes) and products.

Thin, as DESIGN.md asks: reads go through ``registry.selectors`` (already scoped by the policy,
so an object the caller may not see is a 404), writes through ``registry.services`` (which ask
the policy again and write the audit event; a visible object the caller may not change is a
403). This module only translates public codes and uuids into objects and objects into JSON.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import Model, Prefetch, Q, QuerySet
from django.http import HttpRequest
from ninja import Query, Router, Status

from haopin.core.errors import NotFoundError, PermissionDeniedError, ValidationFailed
from haopin.core.models import BrandType, Category, Region, SourceProgramme, Tier
from haopin.registry import policies, selectors, services
from haopin.registry.models import Brand, BrandSource, Enterprise, Product
from haopin.registry.schemas import (
    BrandCreate,
    BrandFilters,
    BrandOut,
    BrandPage,
    BrandPatch,
    EnterpriseCreate,
    EnterpriseFilters,
    EnterpriseOut,
    EnterprisePage,
    EnterprisePatch,
    ProductCreate,
    ProductFilters,
    ProductOut,
    ProductPage,
    ProductPatch,
    SourceIn,
    SourceOut,
)

router = Router(tags=["registry"])

# --- public codes → reference rows --------------------------------------------------------------

REFERENCES: dict[str, tuple[type[Model], str]] = {
    "region": (Region, "行政区划"),
    "category": (Category, "行业类别"),
    "brand_type": (BrandType, "品牌类型"),
    "type": (BrandType, "品牌类型"),
    "tier": (Tier, "品牌层级"),
    "programme": (SourceProgramme, "存量品牌来源"),
}


def reference(field: str, code: str) -> Any:
    """The reference row with public ``code``; an unknown code is a 422 on ``field``."""
    model, label = REFERENCES[field]
    row = model._default_manager.filter(code=code).first()
    if row is None:
        message = f"未知的{label}代码“{code}”。"
        raise ValidationFailed(message, details={field: message})
    return row


def _resolve(values: dict[str, Any]) -> dict[str, Any]:
    """Replace reference codes in ``values`` by their rows."""
    for field in ("region", "category", "brand_type", "tier"):
        if values.get(field) is not None:
            values[field] = reference(field, values[field])
    return values


def _visible_or_invalid(field: str, lookup: Any, *args: Any) -> Any:
    """An object named in the request body: invisible is a field error, not a 404 of the URL."""
    try:
        return lookup(*args)
    except NotFoundError:
        message = "对象不存在或您无权查看。"
        raise ValidationFailed(f"{field}：{message}", details={field: message}) from None


def _page(qs: QuerySet, filters: Any, serialise: Any) -> dict[str, Any]:
    items = qs[filters.offset : filters.offset + filters.limit]
    return {
        "count": qs.count(),
        "limit": filters.limit,
        "offset": filters.offset,
        "items": [serialise(obj) for obj in items],
    }


def _region_prefix(code: str) -> str:
    return reference("region", code).prefix


# --- serialisation ------------------------------------------------------------------------------


def _code_name(obj: Any) -> dict[str, str] | None:
    return None if obj is None else {"code": obj.code, "name": obj.name}


def enterprise_out(e: Enterprise) -> dict[str, Any]:
    region = e.region
    city = region.parent if region.level == Region.Level.COUNTY else region
    return {
        "uuid": e.uuid,
        "uscc": e.uscc,
        "name": e.name,
        "region": _code_name(region),
        "city": _code_name(city) if city is not None and city.level == Region.Level.CITY else None,
        "legal_representative": e.legal_representative,
        "address": e.address,
        "founded_on": e.founded_on,
        "industry_code": e.industry_code,
        "size": e.size,
        "contact_name": e.contact_name,
        "contact_phone": e.contact_phone,
        "contact_email": e.contact_email,
        "created_at": e.created_at,
        "updated_at": e.updated_at,
    }


def source_out(s: BrandSource) -> dict[str, Any]:
    return {
        "programme": s.programme.code,
        "programme_name": s.programme.name,
        "certificate_number": s.certificate_number,
        "year": s.year,
        "document": s.document.uuid if s.document is not None else None,
    }


def brand_out(b: Brand, sources: Any = None) -> dict[str, Any]:
    return {
        "uuid": b.uuid,
        "name": b.name,
        "name_en": b.name_en,
        "owner": {"uuid": b.owner.uuid, "name": b.owner.name, "uscc": b.owner.uscc},
        "brand_type": b.brand_type.code,
        "category": _code_name(b.category),
        "region": _code_name(b.region),
        "tier": b.tier.code,
        "status": b.status,
        "trademark_numbers": b.trademark_numbers,
        "description": b.description,
        "description_en": b.description_en,
        "sources": [source_out(s) for s in (b.sources.all() if sources is None else sources)],
        "created_at": b.created_at,
        "updated_at": b.updated_at,
    }


def product_out(p: Product) -> dict[str, Any]:
    return {
        "uuid": p.uuid,
        "brand": {"uuid": p.brand.uuid, "name": p.brand.name},
        "kind": p.kind,
        "name": p.name,
        "specification": p.specification,
        "standard_codes": p.standard_codes,
        "gtin": p.gtin,
        "description": p.description,
        "created_at": p.created_at,
        "updated_at": p.updated_at,
    }


def _brands_with_sources(qs: QuerySet[Brand]) -> QuerySet[Brand]:
    return qs.prefetch_related(
        Prefetch("sources", queryset=BrandSource.objects.select_related("programme", "document"))
    )


def _brand_detail(request: HttpRequest, brand_uuid: Any) -> dict[str, Any]:
    brand = get_brand(request, brand_uuid)
    return brand_out(brand, selectors.brand_sources(brand))


# --- enterprises --------------------------------------------------------------------------------


@router.get("/enterprises", response=EnterprisePage, summary="企业列表（按权限范围）")
def list_enterprises(request: HttpRequest, filters: Query[EnterpriseFilters]):
    qs = selectors.enterprise_list_for_user(request.user)
    if filters.region:
        qs = qs.filter(region__code__startswith=_region_prefix(filters.region))
    if filters.size is not None:
        qs = qs.filter(size=filters.size)
    if filters.industry:
        qs = qs.filter(industry_code__startswith=filters.industry.strip().upper())
    if filters.q and filters.q.strip():
        term = filters.q.strip()
        qs = qs.filter(Q(name__icontains=term) | Q(uscc__icontains=term.upper()))
    return _page(qs, filters, enterprise_out)


@router.post("/enterprises", response={201: EnterpriseOut}, summary="登记企业")
def create_enterprise(request: HttpRequest, payload: EnterpriseCreate):
    values = _resolve(payload.model_dump())
    enterprise = services.enterprise_create(actor=request.user, **values)
    return Status(201, enterprise_out(selectors.enterprise_get_for_user(request.user, enterprise.uuid)))


@router.get("/enterprises/{uuid}", response=EnterpriseOut, summary="企业详情")
def get_enterprise(request: HttpRequest, uuid: uuid.UUID):
    return enterprise_out(selectors.enterprise_get_for_user(request.user, uuid))


@router.patch("/enterprises/{uuid}", response=EnterpriseOut, summary="修改企业信息（只传要改的字段）")
def patch_enterprise(request: HttpRequest, uuid: uuid.UUID, payload: EnterprisePatch):
    enterprise = selectors.enterprise_get_for_user(request.user, uuid)
    values = _resolve(payload.model_dump(exclude_unset=True))
    services.enterprise_update(actor=request.user, enterprise=enterprise, **values)
    return enterprise_out(selectors.enterprise_get_for_user(request.user, uuid))


# --- brands -------------------------------------------------------------------------------------


def get_brand(request: HttpRequest, brand_uuid: Any) -> Brand:
    return selectors.brand_get_for_user(request.user, brand_uuid)


@router.get("/brands", response=BrandPage, summary="品牌列表（按权限范围）")
def list_brands(request: HttpRequest, filters: Query[BrandFilters]):
    qs = selectors.brand_list_for_user(request.user)
    if filters.region:
        qs = qs.filter(region__code__startswith=_region_prefix(filters.region))
    if filters.category:
        qs = qs.filter(category__code__startswith=reference("category", filters.category).code)
    if filters.type:
        qs = qs.filter(brand_type=reference("type", filters.type))
    if filters.tier:
        qs = qs.filter(tier=reference("tier", filters.tier))
    if filters.programme:
        programme = reference("programme", filters.programme)
        qs = qs.filter(pk__in=BrandSource.objects.filter(programme=programme).values("brand_id"))
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.owner:
        qs = qs.filter(owner__uuid=filters.owner)
    if filters.q and filters.q.strip():
        term = filters.q.strip()
        qs = qs.filter(Q(name__icontains=term) | Q(name_en__icontains=term) | Q(owner__name__icontains=term))
    return _page(_brands_with_sources(qs), filters, brand_out)


@router.post("/brands", response={201: BrandOut}, summary="登记品牌（可同时登记存量品牌来源）")
def create_brand(request: HttpRequest, payload: BrandCreate):
    user = request.user
    owner = policies.enterprise_for_new_brand(user, uuid=payload.owner)
    if owner is None:
        if policies.enterprises_for_user(user).filter(uuid=payload.owner).exists():
            raise PermissionDeniedError("您无权为该企业登记品牌。")
        raise ValidationFailed(
            "品牌主体不存在，或您无权为其登记品牌。", details={"owner": "品牌主体不存在或无权登记。"}
        )
    values = _resolve(payload.model_dump(exclude={"owner", "sources"}))
    if values["region"] is None:
        del values["region"]
    sources = [
        {
            "programme": reference("programme", s.programme),
            "certificate_number": s.certificate_number,
            "year": s.year,
            "document": _document(request, s.document),
        }
        for s in payload.sources
    ]
    # One service call, one transaction: a brand whose evidence is rejected is not registered half-way.
    brand = services.brand_create(actor=user, owner=owner, sources=sources, **values)
    return Status(201, _brand_detail(request, brand.uuid))


@router.get("/brands/{uuid}", response=BrandOut, summary="品牌详情")
def get_brand_detail(request: HttpRequest, uuid: uuid.UUID):
    return _brand_detail(request, uuid)


@router.patch("/brands/{uuid}", response=BrandOut, summary="修改品牌信息（只传要改的字段）")
def patch_brand(request: HttpRequest, uuid: uuid.UUID, payload: BrandPatch):
    brand = get_brand(request, uuid)
    values = _resolve(payload.model_dump(exclude_unset=True))
    services.brand_update(actor=request.user, brand=brand, **values)
    return _brand_detail(request, uuid)


def _document(request: HttpRequest, document_uuid: uuid.UUID | None) -> Any:
    if document_uuid is None:
        return None
    return _visible_or_invalid("document", selectors.document_get_for_user, request.user, document_uuid)


def _programme_in_path(code: str) -> SourceProgramme:
    programme = SourceProgramme.objects.filter(code=code).first()
    if programme is None:
        raise NotFoundError(f"未知的存量品牌来源代码“{code[:20]}”。")
    return programme


@router.put(
    "/brands/{uuid}/sources/{programme}",
    response=SourceOut,
    summary="登记或更正品牌的存量来源（证书/文号、认定年份、证明文件）",
)
def put_brand_source(request: HttpRequest, uuid: uuid.UUID, programme: str, payload: SourceIn):
    brand = get_brand(request, uuid)
    source = services.brand_source_set(
        actor=request.user,
        brand=brand,
        programme=_programme_in_path(programme),
        certificate_number=payload.certificate_number,
        year=payload.year,
        document=_document(request, payload.document),
    )
    return source_out(source)


@router.delete("/brands/{uuid}/sources/{programme}", response={204: None}, summary="删除品牌的存量来源")
def delete_brand_source(request: HttpRequest, uuid: uuid.UUID, programme: str):
    brand = get_brand(request, uuid)
    source = selectors.brand_sources(brand).filter(programme=_programme_in_path(programme)).first()
    if source is None:
        raise NotFoundError("该品牌没有此来源。")
    services.brand_source_remove(actor=request.user, source=source)
    return Status(204, None)


# --- products -----------------------------------------------------------------------------------


@router.get("/products", response=ProductPage, summary="产品/服务列表（按权限范围）")
def list_products(request: HttpRequest, filters: Query[ProductFilters]):
    qs = selectors.product_list_for_user(request.user)
    if filters.brand:
        qs = qs.filter(brand__uuid=filters.brand)
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.gtin and filters.gtin.strip():
        qs = qs.filter(gtin=filters.gtin.strip())
    if filters.q and filters.q.strip():
        term = filters.q.strip()
        qs = qs.filter(Q(name__icontains=term) | Q(specification__icontains=term))
    return _page(qs, filters, product_out)


@router.post("/products", response={201: ProductOut}, summary="登记产品/服务/工程")
def create_product(request: HttpRequest, payload: ProductCreate):
    brand = _visible_or_invalid("brand", selectors.brand_get_for_user, request.user, payload.brand)
    product = services.product_create(
        actor=request.user, brand=brand, **payload.model_dump(exclude={"brand"})
    )
    return Status(201, product_out(selectors.product_get_for_user(request.user, product.uuid)))


@router.get("/products/{uuid}", response=ProductOut, summary="产品/服务详情")
def get_product(request: HttpRequest, uuid: uuid.UUID):
    return product_out(selectors.product_get_for_user(request.user, uuid))


@router.patch("/products/{uuid}", response=ProductOut, summary="修改产品/服务（只传要改的字段）")
def patch_product(request: HttpRequest, uuid: uuid.UUID, payload: ProductPatch):
    product = selectors.product_get_for_user(request.user, uuid)
    services.product_update(actor=request.user, product=product, **payload.model_dump(exclude_unset=True))
    return product_out(selectors.product_get_for_user(request.user, uuid))


@router.delete("/products/{uuid}", response={204: None}, summary="删除产品/服务")
def delete_product(request: HttpRequest, uuid: uuid.UUID):
    product = selectors.product_get_for_user(request.user, uuid)
    services.product_delete(actor=request.user, product=product)
    return Status(204, None)
