"""Writes to the registry: enterprises, brands, brand sources, products and documents.

Every function is atomic, asks ``registry.policies``, validates with the model's validators
(``full_clean``) and writes one audit event per changed object. Inputs are normalised first
(credit codes upper-cased, GTINs and standard codes compacted) so that the same data entered
twice is recognised as the same.
"""

from __future__ import annotations

from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import IntegrityError, transaction

from haopin.core import audit
from haopin.core.errors import ConflictError, PermissionDeniedError, ValidationFailed
from haopin.core.models import Region, SourceProgramme
from haopin.core.policies import ScopeKind, scope_of
from haopin.core.writes import assign, full_clean_or_raise
from haopin.registry import policies, uploads
from haopin.registry.models import Brand, BrandSource, Document, Enterprise, Product
from haopin.registry.validation import (
    normalise_gtin,
    normalise_standard_codes,
    normalise_trademarks,
    normalise_uscc,
)
from haopin.search import index as search_index

AUDIT_ACTIONS = {
    "registry.enterprise.created": "登记企业",
    "registry.enterprise.updated": "修改企业信息",
    "registry.enterprise.linked": "企业关联平台账户",
    "registry.brand.created": "登记品牌",
    "registry.brand.updated": "修改品牌信息",
    "registry.brand.source_set": "登记品牌来源",
    "registry.brand.source_removed": "删除品牌来源",
    "registry.product.created": "登记产品/服务",
    "registry.product.updated": "修改产品/服务",
    "registry.product.deleted": "删除产品/服务",
    "registry.document.uploaded": "上传文件",
    "registry.import.validated": "批量导入校验",
    "registry.import.committed": "批量导入提交",
}

ENTERPRISE_FIELDS = [
    "name",
    "region",
    "legal_representative",
    "address",
    "founded_on",
    "industry_code",
    "size",
    "contact_name",
    "contact_phone",
    "contact_email",
]
BRAND_FIELDS = [
    "name",
    "name_en",
    "brand_type",
    "category",
    "region",
    "tier",
    "trademark_numbers",
    "description",
    "description_en",
]
BRAND_GUARDED_FIELDS = {"tier": "set_tier", "status": "set_status"}
PRODUCT_FIELDS = ["kind", "name", "specification", "standard_codes", "gtin", "description"]

# Brand types whose region is the area they cover rather than their owner's seat.
AREA_BRAND_TYPES = {"regional", "gi", "industry"}


def _field_error(field: str, exc: ValidationError) -> ValidationFailed:
    message = exc.messages[0]
    return ValidationFailed(message, details={field: message})


def normalise_enterprise_values(values: dict[str, Any]) -> dict[str, Any]:
    values = {k: (v.strip() if isinstance(v, str) else v) for k, v in values.items()}
    if values.get("industry_code"):
        values["industry_code"] = values["industry_code"].upper()
    return values


def normalise_brand_values(values: dict[str, Any]) -> dict[str, Any]:
    values = {
        k: (v.strip() if isinstance(v, str) and k not in {"description", "description_en"} else v)
        for k, v in values.items()
    }
    if "trademark_numbers" in values:
        try:
            values["trademark_numbers"] = normalise_trademarks(values["trademark_numbers"] or [])
        except ValidationError as exc:
            raise _field_error("trademark_numbers", exc) from exc
    return values


def normalise_product_values(values: dict[str, Any]) -> dict[str, Any]:
    values = {k: (v.strip() if isinstance(v, str) and k != "description" else v) for k, v in values.items()}
    if "standard_codes" in values:
        try:
            values["standard_codes"] = normalise_standard_codes(values["standard_codes"] or [])
        except ValidationError as exc:
            raise _field_error("standard_codes", exc) from exc
    if "gtin" in values:
        if values["gtin"]:
            try:
                values["gtin"] = normalise_gtin(values["gtin"])
            except ValidationError as exc:
                raise _field_error("gtin", exc) from exc
        else:
            values["gtin"] = None
    return values


# --- enterprises -------------------------------------------------------------------------------


@transaction.atomic
def enterprise_create(*, actor: Any, uscc: str, **values: Any) -> Enterprise:
    if not policies.can_create_enterprise(actor):
        raise PermissionDeniedError("您无权登记企业。")
    try:
        uscc = normalise_uscc(uscc)
    except ValidationError as exc:
        raise _field_error("uscc", exc) from exc
    existing = Enterprise.objects.filter(uscc=uscc).first()
    if existing is not None:
        raise ValidationFailed(
            f"该统一社会信用代码已登记（{existing.name}）。", details={"uscc": "该统一社会信用代码已登记。"}
        )
    values = normalise_enterprise_values(values)
    enterprise = Enterprise(uscc=uscc)
    assign(enterprise, values, allowed=ENTERPRISE_FIELDS)
    full_clean_or_raise(enterprise)
    if not policies.enterprise_within_scope(actor, region_code=enterprise.region.code):
        raise PermissionDeniedError("只能登记本辖区的企业。")
    try:
        with transaction.atomic():
            enterprise.save()
    except IntegrityError as exc:
        raise ConflictError(
            "该统一社会信用代码刚刚已被登记。", details={"uscc": "该统一社会信用代码已登记。"}
        ) from exc
    audit.record(
        "registry.enterprise.created",
        target=enterprise,
        actor=actor,
        new=audit.snapshot(enterprise, ["uscc", *ENTERPRISE_FIELDS]),
    )
    search_index.index_objects("registry.enterprise", [enterprise])
    return enterprise


@transaction.atomic
def enterprise_update(*, actor: Any, enterprise: Enterprise, **values: Any) -> Enterprise:
    enterprise = Enterprise.objects.select_for_update().get(pk=enterprise.pk)
    if not policies.can(actor, "change", enterprise):
        raise PermissionDeniedError("您无权修改该企业信息。")
    old, new = assign(enterprise, normalise_enterprise_values(values), allowed=ENTERPRISE_FIELDS)
    full_clean_or_raise(enterprise)
    if "region" in new and not policies.enterprise_within_scope(actor, region_code=enterprise.region.code):
        raise PermissionDeniedError("不能把企业迁出本辖区；请由省质量强省办办理。")
    if new:
        enterprise.save()
        audit.record("registry.enterprise.updated", target=enterprise, actor=actor, old=old, new=new)
        # A new name is also in its brands' index rows.
        search_index.index_objects("registry.enterprise", [enterprise], changed=new)
    return enterprise


@transaction.atomic
def enterprise_attach_organisation(
    *, organisation: Any, actor: Any, uscc: str, name: str, region: Region, **contact: Any
) -> Enterprise:
    """Link a newly registered organisation to its registry record (creating it if needed).

    Called only by ``accounts.services.enterprise_register``; the registering user has no scope
    yet, so there is no policy check here: the credit code is the proof of identity, and the
    city bureau's approval of the registration is the check.
    """
    enterprise = Enterprise.objects.select_for_update().filter(uscc=uscc).first()
    if enterprise is None:
        enterprise = Enterprise(
            uscc=uscc,
            name=name,
            region=region,
            organisation=organisation,
            **normalise_enterprise_values(contact),
        )
        full_clean_or_raise(enterprise, exclude=["organisation"])
        enterprise.save()
        audit.record(
            "registry.enterprise.created",
            target=enterprise,
            actor=actor,
            new=audit.snapshot(enterprise, ["uscc", *ENTERPRISE_FIELDS, "organisation"]),
        )
        search_index.index_objects("registry.enterprise", [enterprise])
        return enterprise
    if enterprise.organisation_id not in (None, organisation.pk):
        raise ConflictError("该企业已关联其他平台账户。")
    enterprise.organisation = organisation
    enterprise.save(update_fields=["organisation", "updated_at"])
    audit.record(
        "registry.enterprise.linked",
        target=enterprise,
        actor=actor,
        old={"organisation": None},
        new={"organisation": organisation.pk},
    )
    return enterprise


# --- brands ------------------------------------------------------------------------------------


def _check_brand_scope(actor: Any, brand: Brand, programme_ids: set[int]) -> None:
    if not policies.brand_within_scope(
        actor,
        region_code=brand.region.code,
        category_id=brand.category_id,
        programme_ids=programme_ids,
        owner_organisation_id=brand.owner.organisation_id,
    ):
        raise PermissionDeniedError("该品牌不在您的管辖范围内（所属区划、类别或来源项目）。")


def _check_tier(actor: Any, brand: Brand) -> None:
    scope = scope_of(actor)
    if brand.tier.code != "pool" and scope.kind != ScopeKind.ALL:
        raise PermissionDeniedError(
            f"只有省质量强省办可以将品牌层级设为“{brand.tier.name}”；新登记品牌请列入培育库。",
            details={"tier": "只能选择培育库。"},
        )


def _check_region(brand: Brand) -> None:
    """Product and enterprise brands belong to their owner's county; regional, industry and GI
    brands name the area they cover."""
    if brand.brand_type.code not in AREA_BRAND_TYPES and brand.region_id != brand.owner.region_id:
        raise ValidationFailed(
            "产品品牌和企业品牌的所属区划即品牌主体所在区划，无需另行填写。",
            details={"region": "应与品牌主体所在区划一致。"},
        )


@transaction.atomic
def brand_create(
    *, actor: Any, owner: Enterprise, sources: list[dict[str, Any]] | None = None, **values: Any
) -> Brand:
    """Register a brand for ``owner``, with the source programmes it comes from.

    ``sources`` are dicts with ``programme`` and optionally ``certificate_number``, ``year`` and
    ``document``; they are written with the brand, because a department whose scope is a source
    programme can see (and so complete) the brand only once its source exists.
    """
    if not policies.may_add_brand_for(actor, owner):
        raise PermissionDeniedError("您无权为该企业登记品牌。")
    values = normalise_brand_values(values)
    brand = Brand(owner=owner)
    assign(brand, values, allowed=BRAND_FIELDS)
    if brand.region_id is None:
        brand.region = owner.region
    full_clean_or_raise(brand)
    sources = sources or []
    programmes = [s["programme"] for s in sources]
    if len({p.pk for p in programmes}) != len(programmes):
        raise ValidationFailed("同一来源项目只能登记一次。", details={"sources": "来源项目重复。"})
    _check_brand_scope(actor, brand, {p.pk for p in programmes})
    _check_region(brand)
    _check_tier(actor, brand)
    try:
        with transaction.atomic():
            brand.save()
    except IntegrityError as exc:
        raise ConflictError("该企业已登记同名品牌。", details={"name": "该企业已登记同名品牌。"}) from exc
    audit.record(
        "registry.brand.created",
        target=brand,
        actor=actor,
        new=audit.snapshot(brand, ["owner", *BRAND_FIELDS, "status"]),
    )
    search_index.index_objects("registry.brand", [brand])
    for source in sources:
        _source_write(actor, brand, **source)
    return brand


@transaction.atomic
def brand_update(*, actor: Any, brand: Brand, **values: Any) -> Brand:
    brand = Brand.objects.select_for_update().select_related("owner", "region").get(pk=brand.pk)
    if not policies.can(actor, "change", brand):
        raise PermissionDeniedError("您无权修改该品牌。")
    for field, action in BRAND_GUARDED_FIELDS.items():
        if field in values and not policies.can(actor, action, brand):
            current = getattr(brand, f"{field}_id", getattr(brand, field, None))
            given = values[field]
            given_id = getattr(given, "pk", given)
            if given_id != current:
                raise PermissionDeniedError(
                    "品牌层级和状态由省质量强省办根据评价和监管结果调整。",
                    details={field: "您无权修改此项。"},
                )
    old, new = assign(brand, normalise_brand_values(values), allowed=[*BRAND_FIELDS, "status"])
    full_clean_or_raise(brand)
    if {"region", "category"} & set(new):
        programme_ids = set(brand.sources.values_list("programme_id", flat=True))
        _check_brand_scope(actor, brand, programme_ids)
    if {"region", "brand_type"} & set(new):
        _check_region(brand)
    if new:
        brand.save()
        audit.record("registry.brand.updated", target=brand, actor=actor, old=old, new=new)
        # A new name is also in its products' index rows.
        search_index.index_objects("registry.brand", [brand], changed=new)
    return brand


@transaction.atomic
def brand_source_set(
    *,
    actor: Any,
    brand: Brand,
    programme: SourceProgramme,
    certificate_number: str = "",
    year: int | None = None,
    document: Document | None = None,
) -> BrandSource:
    """Record (or correct) that ``brand`` comes from ``programme``."""
    if not policies.can(actor, "change", brand):
        raise PermissionDeniedError("您无权修改该品牌。")
    return _source_write(
        actor, brand, programme=programme, certificate_number=certificate_number, year=year, document=document
    )


def _source_write(
    actor: Any,
    brand: Brand,
    *,
    programme: SourceProgramme,
    certificate_number: str = "",
    year: int | None = None,
    document: Document | None = None,
) -> BrandSource:
    if year is not None and not (1950 <= year <= 2100):
        raise ValidationFailed("认定年份不正确。", details={"year": "请填写四位年份，如 2021。"})
    if document is not None and document.enterprise_id != brand.owner_id:
        raise ValidationFailed("证明文件不属于该品牌主体。", details={"document": "请上传本企业的证明文件。"})
    source = BrandSource.objects.select_for_update().filter(brand=brand, programme=programme).first()
    values = {
        "certificate_number": (certificate_number or "").strip(),
        "year": year,
        "document": document,
    }
    if source is None:
        source = BrandSource(brand=brand, programme=programme)
        old, new = assign(source, values, allowed=values.keys())
        full_clean_or_raise(source)
        source.save()
    else:
        old, new = assign(source, values, allowed=values.keys())
        full_clean_or_raise(source)
        if not new:
            return source
        source.save()
    audit.record(
        "registry.brand.source_set",
        target=brand,
        actor=actor,
        old=old or None,
        new={"programme": programme.code, **new},
    )
    return source


@transaction.atomic
def brand_source_remove(*, actor: Any, source: BrandSource) -> None:
    if not policies.can(actor, "change", source.brand):
        raise PermissionDeniedError("您无权修改该品牌。")
    audit.record(
        "registry.brand.source_removed",
        target=source.brand,
        actor=actor,
        old={
            "programme": source.programme.code,
            "certificate_number": source.certificate_number,
            "year": source.year,
        },
    )
    source.delete()


# --- products ----------------------------------------------------------------------------------


@transaction.atomic
def product_create(*, actor: Any, brand: Brand, **values: Any) -> Product:
    if not policies.can(actor, "add_product", brand):
        raise PermissionDeniedError("您无权为该品牌登记产品。")
    product = Product(brand=brand)
    assign(product, normalise_product_values(values), allowed=PRODUCT_FIELDS)
    full_clean_or_raise(product)
    try:
        with transaction.atomic():
            product.save()
    except IntegrityError as exc:
        raise ConflictError("商品条码或名称规格与已有产品重复。") from exc
    audit.record(
        "registry.product.created",
        target=product,
        actor=actor,
        new=audit.snapshot(product, ["brand", *PRODUCT_FIELDS]),
    )
    search_index.index_objects("registry.product", [product])
    return product


@transaction.atomic
def product_update(*, actor: Any, product: Product, **values: Any) -> Product:
    product = Product.objects.select_for_update().get(pk=product.pk)
    if not policies.can(actor, "change", product):
        raise PermissionDeniedError("您无权修改该产品。")
    old, new = assign(product, normalise_product_values(values), allowed=PRODUCT_FIELDS)
    full_clean_or_raise(product)
    if new:
        product.save()
        audit.record("registry.product.updated", target=product, actor=actor, old=old, new=new)
        search_index.index_objects("registry.product", [product], changed=new)
    return product


@transaction.atomic
def product_delete(*, actor: Any, product: Product) -> None:
    if not policies.can(actor, "delete", product):
        raise PermissionDeniedError("您无权删除该产品。")
    audit.record(
        "registry.product.deleted",
        target=product,
        actor=actor,
        old=audit.snapshot(product, ["brand", *PRODUCT_FIELDS]),
    )
    search_index.remove("registry.product", [product.pk])
    product.delete()


# --- documents ---------------------------------------------------------------------------------

ALLOWED_BY_PURPOSE: dict[str, set[str]] = {
    Document.Purpose.EVIDENCE: {uploads.PDF, uploads.JPEG, uploads.PNG},
    Document.Purpose.LICENCE: {uploads.PDF, uploads.JPEG, uploads.PNG},
    Document.Purpose.LOGO: {uploads.PNG, uploads.JPEG},
    Document.Purpose.OTHER: {uploads.PDF, uploads.JPEG, uploads.PNG, uploads.XLSX},
    Document.Purpose.IMPORT: {uploads.XLSX},
}


def _safe_name(name: str) -> str:
    name = (name or "file").replace("\\", "/").rsplit("/", 1)[-1]
    return "".join(ch for ch in name if ch.isprintable() and ch not in '<>:"|?*')[:200] or "file"


@transaction.atomic
def document_upload(
    *,
    actor: Any,
    upload: IO[bytes],
    name: str,
    purpose: str,
    enterprise: Enterprise | None = None,
    brand: Brand | None = None,
    title: str = "",
) -> Document:
    """Store an uploaded file for an enterprise or brand the actor may change (or an import)."""
    if purpose not in ALLOWED_BY_PURPOSE:
        raise ValidationFailed("文件用途无效。")
    if purpose == Document.Purpose.IMPORT:
        if not policies.can_import(actor):
            raise PermissionDeniedError("您无权批量导入。")
    else:
        if brand is not None:
            enterprise = brand.owner
            allowed = policies.can(actor, "upload", brand)
        else:
            allowed = enterprise is not None and policies.can(actor, "change", enterprise)
        if not allowed:
            raise PermissionDeniedError("您无权为该企业或品牌上传文件。")
    return document_store(
        actor=actor,
        upload=upload,
        name=name,
        purpose=purpose,
        enterprise=enterprise,
        brand=brand,
        title=title,
    )


@transaction.atomic
def document_store(
    *,
    actor: Any,
    upload: IO[bytes],
    name: str,
    purpose: str,
    enterprise: Enterprise | None = None,
    brand: Brand | None = None,
    title: str = "",
) -> Document:
    """Check and store a file; the caller's domain has already decided the actor may.

    For other domains whose people attach files about an enterprise without being allowed to
    change it (an expert's evidence for a veto item, a reviewer's decision document). The file is
    written under a random name with the sniffed extension; the original name is kept only as
    metadata (and sent back in Content-Disposition when downloaded).
    """
    if purpose not in ALLOWED_BY_PURPOSE:
        raise ValidationFailed("文件用途无效。")
    max_mb = settings.MAX_IMPORT_MB if purpose == Document.Purpose.IMPORT else settings.MAX_UPLOAD_MB
    checked = uploads.check_upload(upload, allowed=ALLOWED_BY_PURPOSE[purpose], max_mb=max_mb)
    scope = scope_of(actor)
    document = Document(
        enterprise=enterprise,
        brand=brand,
        purpose=purpose,
        title=title.strip(),
        original_name=_safe_name(name),
        content_type=checked.content_type,
        size=checked.size,
        sha256=checked.sha256,
        uploaded_by=actor if getattr(actor, "pk", None) else None,
        uploaded_by_organisation_id=scope.organisation_id,
    )
    # The file is written before the row; if the row cannot be saved the file is removed.
    # (A rollback of an enclosing transaction leaves an unreferenced file, which
    # ``manage.py documents_prune`` deletes; no data is lost either way.)
    document.file.save(f"{document.uuid.hex}.{checked.extension}", File(upload), save=False)
    try:
        with transaction.atomic():
            document.save()
    except Exception:
        document.file.storage.delete(document.file.name)
        raise
    audit.record(
        "registry.document.uploaded",
        target=document,
        actor=actor,
        new={
            "purpose": purpose,
            "name": document.original_name,
            "sha256": checked.sha256,
            "size": checked.size,
            "enterprise": getattr(enterprise, "pk", None),
            "brand": getattr(brand, "pk", None),
        },
    )
    return document


@transaction.atomic
def brand_set_logo(*, actor: Any, brand: Brand, upload: IO[bytes], name: str) -> Brand:
    document = document_upload(
        actor=actor,
        upload=upload,
        name=name,
        purpose=Document.Purpose.LOGO,
        brand=brand,
        title=f"{brand.name} 品牌标识",
    )
    brand = Brand.objects.select_for_update().get(pk=brand.pk)
    old = {"logo": brand.logo_id}
    brand.logo = document
    brand.save(update_fields=["logo", "updated_at"])
    audit.record("registry.brand.updated", target=brand, actor=actor, old=old, new={"logo": document.pk})
    return brand
