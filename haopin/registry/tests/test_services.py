"""Registry services: every write validated, scoped, audited; every bad input named."""

from __future__ import annotations

import io
import os
import threading
import time
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import OperationalError, connections, transaction
from PIL import Image

from haopin.core import audit
from haopin.core.errors import ConflictError, PermissionDeniedError, ValidationFailed
from haopin.core.models import AuditEvent, Region
from haopin.registry import services
from haopin.registry.models import Brand, BrandSource, Document, Enterprise, Product
from haopin.registry.validation import make_gtin, make_uscc


def png_bytes(size: tuple[int, int] = (8, 8)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (179, 32, 44)).save(buffer, format="PNG")
    return buffer.getvalue()


PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content)


def last_event(action: str) -> AuditEvent:
    return AuditEvent.objects.filter(action=action).latest("seq")


def new_enterprise_values(province, serial: int = 50, region=None) -> dict:
    return {
        "uscc": make_uscc((region or province.lixia).code, serial),
        "name": f"历下测试企业{serial}",
        "region": region or province.lixia,
    }


# --- enterprises ------------------------------------------------------------------------------


def test_city_registers_an_enterprise_and_the_event_records_it(province):
    enterprise = services.enterprise_create(
        actor=province.city_jinan, industry_code="c1511", **new_enterprise_values(province)
    )
    assert enterprise.industry_code == "C1511"
    event = last_event("registry.enterprise.created")
    assert event.actor_id == province.city_jinan.pk
    assert event.organisation_id == province.jinan_org.pk
    assert event.target_id == str(enterprise.pk)
    assert event.new["uscc"] == enterprise.uscc
    assert event.new["region"] == province.lixia.pk
    assert audit.verify().ok


def test_wrong_uscc_check_character_is_named_on_the_field(province):
    values = new_enterprise_values(province)
    good = values["uscc"]
    values["uscc"] = good[:-1] + ("0" if good[-1] != "0" else "1")
    with pytest.raises(ValidationFailed) as info:
        services.enterprise_create(actor=province.office, **values)
    assert f"末位应为 {good[-1]}" in info.value.details["uscc"]
    assert not Enterprise.objects.filter(name=values["name"]).exists()
    assert not AuditEvent.objects.exists()


def test_duplicate_uscc_names_the_existing_enterprise(province):
    with pytest.raises(ValidationFailed) as info:
        services.enterprise_create(
            actor=province.office, uscc=province.alice_ent.uscc.lower(), name="另一家", region=province.lixia
        )
    assert "泉城食品有限公司" in info.value.message
    assert "uscc" in info.value.details


@pytest.mark.parametrize("code", ["370100", "370000"])
def test_region_that_is_not_a_county_is_refused(province, code):
    values = new_enterprise_values(province)
    values["region"] = Region.objects.get(code=code)
    with pytest.raises(ValidationFailed) as info:
        services.enterprise_create(actor=province.office, **values)
    assert "region" in info.value.details


def test_city_cannot_register_an_enterprise_in_another_city(province):
    with pytest.raises(PermissionDeniedError):
        services.enterprise_create(
            actor=province.city_qingdao, **new_enterprise_values(province, region=province.lixia)
        )
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize("persona", ["alice", "alice_viewer", "office_viewer", "expert", "carol"])
def test_enterprises_viewers_and_outsiders_cannot_register_enterprises(province, persona):
    with pytest.raises(PermissionDeniedError):
        services.enterprise_create(actor=getattr(province, persona), **new_enterprise_values(province))
    assert not Enterprise.objects.filter(name="历下测试企业50").exists()


def test_enterprise_update_records_old_and_new(province):
    services.enterprise_update(
        actor=province.alice, enterprise=province.alice_ent, legal_representative="李华", contact_phone=""
    )
    event = last_event("registry.enterprise.updated")
    assert event.old == {"legal_representative": "李明"}
    assert event.new == {"legal_representative": "李华"}


def test_malformed_phone_and_industry_code_are_named(province):
    with pytest.raises(ValidationFailed) as info:
        services.enterprise_update(
            actor=province.alice, enterprise=province.alice_ent, contact_phone="12345", industry_code="A14"
        )
    assert {"contact_phone", "industry_code"} <= set(info.value.details)


def test_enterprise_cannot_move_itself_to_another_region(province):
    with pytest.raises(PermissionDeniedError):
        services.enterprise_update(
            actor=province.alice, enterprise=province.alice_ent, region=province.laoshan
        )
    province.alice_ent.refresh_from_db()
    assert province.alice_ent.region == province.lixia


@pytest.mark.parametrize("persona", ["alice_viewer", "bob", "dept_agri", "city_qingdao"])
def test_others_cannot_change_alices_enterprise(province, persona):
    with pytest.raises(PermissionDeniedError):
        services.enterprise_update(
            actor=getattr(province, persona), enterprise=province.alice_ent, address="别处"
        )
    assert not AuditEvent.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_registration_of_one_credit_code_creates_one_enterprise(province):
    """Two bureaus submit the same enterprise at the same moment: one record, one clear error."""
    values = new_enterprise_values(province, serial=77)
    start = threading.Barrier(2)
    outcomes: list[object] = []

    def register(actor):
        start.wait()
        try:
            for _ in range(200):
                try:
                    outcomes.append(services.enterprise_create(actor=actor, **values))
                    return
                except (ValidationFailed, ConflictError) as exc:
                    outcomes.append(exc)
                    return
                except OperationalError as exc:
                    # The SQLite test database is a shared-cache in-memory database, whose
                    # table locks fail at once instead of waiting like busy_timeout does
                    # on the real (file) database: wait and try again, as SQLite would.
                    if "locked" not in str(exc):
                        raise
                    time.sleep(0.01)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=register, args=(u,)) for u in (province.office, province.city_jinan)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert Enterprise.objects.filter(uscc=values["uscc"]).count() == 1
    created = [o for o in outcomes if isinstance(o, Enterprise)]
    refused = [o for o in outcomes if isinstance(o, ValidationFailed | ConflictError)]
    assert len(created) == 1 and len(refused) == 1, outcomes
    assert "uscc" in refused[0].details
    assert AuditEvent.objects.filter(action="registry.enterprise.created").count() == 1
    assert audit.verify().ok


# --- brands -----------------------------------------------------------------------------------


def brand_values(province, **extra) -> dict:
    return {
        "name": "泉城老味",
        "brand_type": province.product_type,
        "category": province.cat_food,
        "tier": province.pool,
        **extra,
    }


def test_enterprise_registers_a_brand_in_its_own_region_by_default(province):
    brand = services.brand_create(
        actor=province.alice,
        owner=province.alice_ent,
        trademark_numbers="12345678，87654321",
        **brand_values(province),
    )
    assert brand.region == province.lixia
    assert brand.trademark_numbers == ["12345678", "87654321"]
    event = last_event("registry.brand.created")
    assert event.target_id == str(brand.pk)
    assert event.new["owner"] == province.alice_ent.pk
    assert event.new["tier"] == province.pool.pk


def test_duplicate_brand_name_for_one_owner_is_refused(province):
    with pytest.raises(ValidationFailed) as info:
        services.brand_create(
            actor=province.alice, owner=province.alice_ent, **brand_values(province, name="泉城")
        )
    assert "同名品牌" in info.value.message
    assert Brand.objects.filter(owner=province.alice_ent, name="泉城").count() == 1


def test_the_same_brand_name_is_fine_for_another_owner(province):
    brand = services.brand_create(
        actor=province.bob,
        owner=province.bob_ent,
        **brand_values(province, name="泉城", category=province.cat_tea),
    )
    assert brand.owner == province.bob_ent


def test_only_the_office_registers_a_brand_above_the_pool(province):
    with pytest.raises(PermissionDeniedError) as info:
        services.brand_create(
            actor=province.city_jinan,
            owner=province.alice_ent,
            **brand_values(province, tier=province.member),
        )
    assert "tier" in info.value.details
    brand = services.brand_create(
        actor=province.office, owner=province.alice_ent, **brand_values(province, tier=province.member)
    )
    assert brand.tier == province.member


def test_department_cannot_register_a_brand_outside_its_categories(province):
    with pytest.raises(PermissionDeniedError):
        services.brand_create(actor=province.dept_agri, owner=province.alice_ent, **brand_values(province))
    brand = services.brand_create(
        actor=province.dept_agri,
        owner=province.alice_ent,
        **brand_values(province, category=province.cat_tea),
    )
    assert brand.category == province.cat_tea


def test_read_only_member_cannot_register_a_brand(province):
    with pytest.raises(PermissionDeniedError):
        services.brand_create(actor=province.alice_viewer, owner=province.alice_ent, **brand_values(province))
    assert not AuditEvent.objects.exists()


def test_department_cannot_raise_a_tier_but_the_office_can(province):
    with pytest.raises(PermissionDeniedError) as info:
        services.brand_update(actor=province.dept_agri, brand=province.bob_brand, tier=province.benchmark)
    assert "tier" in info.value.details
    services.brand_update(actor=province.office, brand=province.bob_brand, tier=province.benchmark)
    event = last_event("registry.brand.updated")
    assert event.old == {"tier": province.member.pk} and event.new == {"tier": province.benchmark.pk}


def test_enterprise_cannot_set_its_brand_status(province):
    with pytest.raises(PermissionDeniedError):
        services.brand_update(actor=province.alice, brand=province.alice_brand, status=Brand.Status.EXITED)
    province.alice_brand.refresh_from_db()
    assert province.alice_brand.status == Brand.Status.ACTIVE


def test_city_cannot_move_a_brand_out_of_its_region(province):
    with pytest.raises(PermissionDeniedError):
        services.brand_update(actor=province.city_jinan, brand=province.alice_brand, region=province.laoshan)


def test_malformed_trademark_number_is_named(province):
    with pytest.raises(ValidationFailed) as info:
        services.brand_update(actor=province.alice, brand=province.alice_brand, trademark_numbers="TM-1")
    assert "trademark_numbers" in info.value.details


def test_brand_source_with_evidence_is_recorded_and_corrected(province):
    document = services.document_upload(
        actor=province.alice,
        upload=upload("证书.pdf", PDF),
        name="证书.pdf",
        purpose="evidence",
        brand=province.alice_brand,
    )
    source = services.brand_source_set(
        actor=province.alice,
        brand=province.alice_brand,
        programme=province.prog_chtb,
        certificate_number="SDLZH-2019-0123",
        year=2019,
        document=document,
    )
    event = last_event("registry.brand.source_set")
    assert event.target_id == str(province.alice_brand.pk)
    assert event.new == {
        "programme": "chtb",
        "certificate_number": "SDLZH-2019-0123",
        "year": 2019,
        "document": document.pk,
    }
    services.brand_source_set(
        actor=province.alice,
        brand=province.alice_brand,
        programme=province.prog_chtb,
        certificate_number="SDLZH-2019-0123",
        year=2020,
        document=document,
    )
    event = last_event("registry.brand.source_set")
    assert event.old == {"year": 2019} and event.new == {"programme": "chtb", "year": 2020}
    assert BrandSource.objects.get(pk=source.pk).year == 2020


def test_brand_source_year_and_foreign_evidence_are_refused(province):
    with pytest.raises(ValidationFailed) as info:
        services.brand_source_set(
            actor=province.alice, brand=province.alice_brand, programme=province.prog_chtb, year=1800
        )
    assert "year" in info.value.details
    bobs = services.document_upload(
        actor=province.bob,
        upload=upload("b.pdf", PDF),
        name="b.pdf",
        purpose="evidence",
        brand=province.bob_brand,
    )
    with pytest.raises(ValidationFailed) as info:
        services.brand_source_set(
            actor=province.alice, brand=province.alice_brand, programme=province.prog_chtb, document=bobs
        )
    assert "document" in info.value.details


def test_brand_source_removal_is_audited(province):
    source = province.bob_brand.sources.get()
    services.brand_source_remove(actor=province.bob, source=source)
    event = last_event("registry.brand.source_removed")
    assert event.old == {"programme": "agi", "certificate_number": "AGI01234", "year": 2012}
    assert not province.bob_brand.sources.exists()


def test_alice_cannot_touch_bobs_sources(province):
    with pytest.raises(PermissionDeniedError):
        services.brand_source_remove(actor=province.alice, source=province.bob_brand.sources.get())
    with pytest.raises(PermissionDeniedError):
        services.brand_source_set(
            actor=province.alice, brand=province.bob_brand, programme=province.prog_chtb
        )


# --- products ---------------------------------------------------------------------------------


def product_values(**extra) -> dict:
    return {"name": "泉城把子肉", "specification": "300g", "standard_codes": "GB 2726-2016", **extra}


def test_product_is_registered_with_normalised_codes(province):
    gtin = make_gtin("6901234", 10)
    product = services.product_create(
        actor=province.alice,
        brand=province.alice_brand,
        **product_values(gtin=f"{gtin[:7]} {gtin[7:]}", standard_codes="gb 2726—2016；t/sdaqi 001"),
    )
    assert product.gtin == gtin
    assert product.standard_codes == ["GB 2726-2016", "T/SDAQI 001"]
    event = last_event("registry.product.created")
    assert event.new["gtin"] == gtin and event.new["brand"] == province.alice_brand.pk


def test_wrong_gtin_check_digit_is_named(province):
    gtin = make_gtin("6901234", 10)
    wrong = gtin[:-1] + str((int(gtin[-1]) + 1) % 10)
    with pytest.raises(ValidationFailed) as info:
        services.product_create(
            actor=province.alice, brand=province.alice_brand, **product_values(gtin=wrong)
        )
    assert f"末位应为 {gtin[-1]}" in info.value.details["gtin"]


def test_duplicate_gtin_is_refused_even_across_enterprises(province):
    with pytest.raises(ValidationFailed) as info:
        services.product_create(
            actor=province.alice, brand=province.alice_brand, **product_values(gtin=province.bob_product.gtin)
        )
    assert info.value.details["gtin"] == "该商品条码已被其他产品使用。"


def test_malformed_standard_code_is_named(province):
    with pytest.raises(ValidationFailed) as info:
        services.product_create(
            actor=province.alice, brand=province.alice_brand, **product_values(standard_codes="ISO 9001")
        )
    assert "ISO 9001" in info.value.details["standard_codes"]


def test_same_name_and_specification_under_one_brand_is_refused(province):
    with pytest.raises(ValidationFailed):
        services.product_create(
            actor=province.alice, brand=province.alice_brand, name="泉城酥锅", specification="500g"
        )


@pytest.mark.parametrize("persona", ["alice_viewer", "bob", "city_qingdao", "dept_commerce"])
def test_others_cannot_add_products_to_alices_brand(province, persona):
    with pytest.raises(PermissionDeniedError):
        services.product_create(
            actor=getattr(province, persona), brand=province.alice_brand, **product_values()
        )
    assert not Product.objects.filter(name="泉城把子肉").exists()


def test_product_update_and_delete_are_audited(province):
    product = province.alice_product
    services.product_update(actor=province.alice, product=product, specification="1kg")
    event = last_event("registry.product.updated")
    assert event.old == {"specification": "500g"} and event.new == {"specification": "1kg"}
    services.product_delete(actor=province.alice, product=Product.objects.get(pk=product.pk))
    event = last_event("registry.product.deleted")
    assert event.old["name"] == "泉城酥锅" and event.old["gtin"] == product.gtin
    assert not Product.objects.filter(pk=product.pk).exists()


def test_read_only_member_cannot_delete_a_product(province):
    with pytest.raises(PermissionDeniedError):
        services.product_delete(actor=province.alice_viewer, product=province.alice_product)
    assert Product.objects.filter(pk=province.alice_product.pk).exists()


# --- documents --------------------------------------------------------------------------------


def test_document_is_stored_under_a_random_name_with_its_checksum(province, settings):
    document = services.document_upload(
        actor=province.alice,
        upload=upload("../../营业执照.pdf", PDF),
        name="../../营业执照.pdf",
        purpose="licence",
        enterprise=province.alice_ent,
    )
    assert document.original_name == "营业执照.pdf"
    assert document.content_type == "application/pdf"
    assert document.file.name.startswith("documents/") and document.file.name.endswith(
        f"{document.uuid.hex}.pdf"
    )
    assert Path(settings.MEDIA_ROOT, document.file.name).read_bytes() == PDF
    import hashlib

    assert document.sha256 == hashlib.sha256(PDF).hexdigest()
    event = last_event("registry.document.uploaded")
    assert event.new["sha256"] == document.sha256 and event.new["enterprise"] == province.alice_ent.pk


def test_oversized_file_is_refused_before_anything_is_stored(province, settings):
    settings.MAX_UPLOAD_MB = 1
    big = PDF + b"0" * (1024 * 1024)
    with pytest.raises(ValidationFailed) as info:
        services.document_upload(
            actor=province.alice,
            upload=upload("big.pdf", big),
            name="big.pdf",
            purpose="licence",
            enterprise=province.alice_ent,
        )
    assert "1 MB" in info.value.details["file"]
    assert not Document.objects.exists()
    assert not Path(settings.MEDIA_ROOT, "documents").exists()


@pytest.mark.parametrize(
    ("name", "content", "purpose"),
    [
        ("logo.png", PDF, "logo"),  # a PDF calling itself a PNG
        ("证书.pdf", b"<html><script>alert(1)</script></html>", "evidence"),  # HTML calling itself a PDF
        ("证书.pdf", b"MZ\x90\x00" + b"\x00" * 64, "evidence"),  # an executable
    ],
)
def test_file_whose_content_is_not_what_its_name_says_is_refused(province, name, content, purpose):
    with pytest.raises(ValidationFailed) as info:
        services.document_upload(
            actor=province.alice,
            upload=upload(name, content),
            name=name,
            purpose=purpose,
            brand=province.alice_brand,
        )
    assert "file" in info.value.details
    assert "按文件内容识别" in info.value.message
    assert not Document.objects.exists()


def test_a_png_named_pdf_is_accepted_as_what_it_is(province):
    document = services.document_upload(
        actor=province.alice,
        upload=upload("scan.pdf", png_bytes()),
        name="scan.pdf",
        purpose="evidence",
        brand=province.alice_brand,
    )
    assert document.content_type == "image/png" and document.file.name.endswith(".png")


def test_nobody_uploads_for_someone_elses_enterprise(province):
    for persona in ("bob", "alice_viewer", "dept_agri"):
        with pytest.raises(PermissionDeniedError):
            services.document_upload(
                actor=getattr(province, persona),
                upload=upload("a.pdf", PDF),
                name="a.pdf",
                purpose="licence",
                enterprise=province.alice_ent,
            )
    assert not Document.objects.exists()


def test_logo_upload_records_the_document_and_the_brand_change(province):
    brand = services.brand_set_logo(
        actor=province.alice,
        brand=province.alice_brand,
        upload=upload("logo.png", png_bytes()),
        name="logo.png",
    )
    assert brand.logo.purpose == "logo" and brand.logo.enterprise == province.alice_ent
    assert last_event("registry.document.uploaded").new["brand"] == brand.pk
    assert last_event("registry.brand.updated").new == {"logo": brand.logo.pk}


# --- documents_prune --------------------------------------------------------------------------


def _age(path: Path, seconds: int) -> None:
    past = time.time() - seconds
    os.utime(path, (past, past))


def test_documents_prune_deletes_only_old_unreferenced_files(province, settings):
    kept = services.document_upload(
        actor=province.alice,
        upload=upload("a.pdf", PDF),
        name="a.pdf",
        purpose="licence",
        enterprise=province.alice_ent,
    )
    kept_path = Path(settings.MEDIA_ROOT, kept.file.name)
    orphan_dir = Path(settings.MEDIA_ROOT, "documents", "2020", "01")
    orphan_dir.mkdir(parents=True)
    old_orphan = orphan_dir / "deadbeef.pdf"
    old_orphan.write_bytes(PDF)
    fresh_orphan = kept_path.parent / "fresh.pdf"
    fresh_orphan.write_bytes(PDF)
    outside = Path(settings.MEDIA_ROOT, "other.txt")
    outside.write_bytes(b"not ours")
    for path in (kept_path, old_orphan, outside):
        _age(path, 2 * 3600)

    out = io.StringIO()
    call_command("documents_prune", "--dry-run", stdout=out)
    assert "将删除 1 个" in out.getvalue() and old_orphan.exists()

    call_command("documents_prune", stdout=io.StringIO())
    assert not old_orphan.exists() and not orphan_dir.exists()
    assert kept_path.exists() and fresh_orphan.exists() and outside.exists()


def test_file_left_by_a_rolled_back_upload_is_pruned(province, settings):
    with pytest.raises(RuntimeError), transaction.atomic():
        document = services.document_upload(
            actor=province.alice,
            upload=upload("a.pdf", PDF),
            name="a.pdf",
            purpose="licence",
            enterprise=province.alice_ent,
        )
        left = Path(settings.MEDIA_ROOT, document.file.name)
        raise RuntimeError("the form failed after the upload")
    assert left.exists() and not Document.objects.exists()
    _age(left, 3601 + 60)
    call_command("documents_prune", stdout=io.StringIO())
    assert not left.exists()
