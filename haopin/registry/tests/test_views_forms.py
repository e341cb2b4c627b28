"""Registry forms: they call the services, show ValidationFailed next to the fields, keep what
was typed, validate inline (htmx) without saving, and refuse what the policy forbids."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from haopin.core.models import AuditEvent, Category, Region
from haopin.registry.models import Brand, BrandSource, Document, Enterprise, Product
from haopin.registry.tests.test_services import PDF, png_bytes
from haopin.registry.validation import make_gtin, make_uscc

ENTERPRISE_NEW = reverse("registry:enterprise-create")
BRAND_NEW = reverse("registry:brand-create")


def url(name: str, obj, *extra) -> str:
    return reverse(f"registry:{name}", args=[obj.uuid, *extra])


def field_error(response, field: str) -> str:
    errors = response.context["form"].errors.get(field)
    assert errors, (field, response.context["form"].errors)
    return errors[0]


def validate(client, path: str, data: dict, trigger: str):
    """What htmx sends when a field changes: the whole form, flagged as a check."""
    return client.post(path, {**data, "_validate": "1"}, HTTP_HX_REQUEST="true", HTTP_HX_TRIGGER_NAME=trigger)


def enterprise_data(province, serial: int = 60, **extra) -> dict:
    return {
        "uscc": make_uscc("370102", serial),
        "name": "历下新登记企业",
        "region": province.lixia.pk,
        "legal_representative": "赵六",
        "industry_code": "C14",
        "size": "small",
        "contact_phone": "0531-88881234",
        **extra,
    }


# --- enterprises ------------------------------------------------------------------------------


def test_city_registers_an_enterprise(province, as_user):
    response = as_user(province.city_jinan).post(ENTERPRISE_NEW, enterprise_data(province))
    enterprise = Enterprise.objects.get(name="历下新登记企业")
    assert response.status_code == 302 and response["Location"] == enterprise.get_absolute_url()
    event = AuditEvent.objects.get(action="registry.enterprise.created")
    assert event.actor_id == province.city_jinan.pk and event.new["industry_code"] == "C14"


def test_wrong_check_character_is_shown_next_to_the_field_and_nothing_is_lost(province, as_user):
    data = enterprise_data(province)
    good = data["uscc"]
    data["uscc"] = good[:-1] + ("0" if good[-1] != "0" else "1")
    response = as_user(province.office).post(ENTERPRISE_NEW, data)
    assert response.status_code == 422
    assert f"末位应为 {good[-1]}" in field_error(response, "uscc")
    body = response.content.decode()
    assert 'id="field-uscc"' in body and "field invalid" in body
    for value in ("历下新登记企业", "赵六", "0531-88881234", data["uscc"]):
        assert value in body
    assert not Enterprise.objects.filter(name="历下新登记企业").exists()


def test_duplicate_credit_code_and_city_as_region_are_refused(province, as_user):
    response = as_user(province.office).post(
        ENTERPRISE_NEW, enterprise_data(province, uscc=province.alice_ent.uscc, region=province.jinan.pk)
    )
    assert response.status_code == 422
    assert "已登记" in field_error(response, "uscc")
    assert field_error(response, "region")  # a city is not a county


def test_city_qingdao_cannot_place_an_enterprise_in_jinan(province, as_user):
    client = as_user(province.city_qingdao)
    form = client.get(ENTERPRISE_NEW).context["form"]
    codes = {r.code for r in form.fields["region"].queryset}
    assert "370212" in codes and "370102" not in codes
    response = client.post(ENTERPRISE_NEW, enterprise_data(province))
    assert response.status_code == 422 and field_error(response, "region")
    assert not Enterprise.objects.filter(name="历下新登记企业").exists()


def test_enterprises_and_read_only_members_may_not_register_enterprises(province, as_user):
    for persona in ("alice", "office_viewer", "expert"):
        client = as_user(getattr(province, persona))
        assert client.get(ENTERPRISE_NEW).status_code == 403
        assert client.post(ENTERPRISE_NEW, enterprise_data(province)).status_code == 403
    assert not Enterprise.objects.filter(name="历下新登记企业").exists()


def test_inline_check_answers_with_the_field_and_saves_nothing(province, as_user):
    data = enterprise_data(province)
    data["uscc"] = data["uscc"][:-1] + ("0" if data["uscc"][-1] != "0" else "1")
    response = validate(as_user(province.office), ENTERPRISE_NEW, data, "uscc")
    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" not in body and 'id="field-uscc"' in body and "末位应为" in body
    assert 'hx-post="/workspace/registry/enterprises/new/"' in body
    assert not Enterprise.objects.filter(name="历下新登记企业").exists()
    assert not AuditEvent.objects.exists()


def test_inline_check_of_a_valid_form_runs_the_service_without_saving(province, as_user):
    response = validate(as_user(province.office), ENTERPRISE_NEW, enterprise_data(province), "name")
    assert response.status_code == 200
    assert not response.context["form"].errors
    assert not Enterprise.objects.filter(name="历下新登记企业").exists()
    assert not AuditEvent.objects.exists()


def test_enterprise_edits_its_profile_but_not_its_region(province, as_user):
    client = as_user(province.alice)
    form = client.get(url("enterprise-edit", province.alice_ent)).context["form"]
    assert form.fields["region"].disabled and "uscc" not in form.fields
    data = enterprise_data(province, region=province.laoshan.pk, legal_representative="李华")
    del data["uscc"]
    data["name"] = province.alice_ent.name
    response = client.post(url("enterprise-edit", province.alice_ent), data)
    assert response.status_code == 302
    province.alice_ent.refresh_from_db()
    assert province.alice_ent.legal_representative == "李华" and province.alice_ent.region == province.lixia
    event = AuditEvent.objects.get(action="registry.enterprise.updated")
    assert event.new["legal_representative"] == "李华" and "region" not in event.new


def test_department_cannot_edit_an_enterprise_it_sees(province, as_user):
    client = as_user(province.dept_agri)
    assert client.get(url("enterprise-edit", province.bob_ent)).status_code == 403
    assert client.post(url("enterprise-edit", province.bob_ent), {"name": "改名"}).status_code == 403


def test_department_registers_an_owner_then_its_first_brand(province, as_user):
    client = as_user(province.dept_agri)
    data = enterprise_data(province, serial=61, name="章丘大葱合作社")
    response = client.post(ENTERPRISE_NEW, data)
    # The department does not see an enterprise without brands it manages: it goes on to one.
    assert response.status_code == 302 and response["Location"].startswith(BRAND_NEW + "?owner=")
    form = client.get(response["Location"]).context["form"]
    assert form.initial["owner_uscc"] == data["uscc"]
    vegetables = Category.objects.get(code="10202")
    response = client.post(
        BRAND_NEW,
        {
            "owner_uscc": data["uscc"],
            "name": "章丘大葱",
            "brand_type": province.gi_type.pk,
            "category": vegetables.pk,
        },
    )
    brand = Brand.objects.get(name="章丘大葱")
    assert response.status_code == 302 and response["Location"] == brand.get_absolute_url()
    assert brand.tier == province.pool and brand.region == province.lixia
    assert client.get(brand.owner.get_absolute_url()).status_code == 200


# --- brands -----------------------------------------------------------------------------------


def brand_data(province, **extra) -> dict:
    return {
        "name": "泉城老味",
        "brand_type": province.product_type.pk,
        "category": province.cat_food.pk,
        "trademark_numbers": "12345678，87654321",
        "description": "百年老店。",
        **extra,
    }


def test_enterprise_registers_a_brand_for_itself_only(province, as_user):
    client = as_user(province.alice)
    form = client.get(BRAND_NEW).context["form"]
    assert "owner_uscc" not in form.fields and "tier" not in form.fields and "status" not in form.fields
    response = client.post(BRAND_NEW, brand_data(province, owner_uscc=province.bob_ent.uscc))
    brand = Brand.objects.get(name="泉城老味")
    assert response.status_code == 302
    assert brand.owner == province.alice_ent and brand.tier == province.pool
    assert brand.trademark_numbers == ["12345678", "87654321"]


def test_brand_from_the_enterprise_page_has_its_owner_fixed(province, as_user):
    client = as_user(province.city_jinan)
    path = url("enterprise-brand-create", province.alice_ent)
    assert "owner_uscc" not in client.get(path).context["form"].fields
    assert client.post(path, brand_data(province)).status_code == 302
    assert Brand.objects.get(name="泉城老味").owner == province.alice_ent


def test_duplicate_brand_name_is_shown_on_the_name_field(province, as_user):
    client = as_user(province.alice)
    response = client.post(BRAND_NEW, brand_data(province, name="泉城"))
    assert response.status_code == 422
    assert "同名品牌" in field_error(response, "name")
    assert "百年老店。" in response.content.decode()
    checked = validate(client, BRAND_NEW, brand_data(province, name="泉城"), "name")
    assert checked.status_code == 200 and "同名品牌" in checked.content.decode()
    assert Brand.objects.filter(name="泉城").count() == 1


def test_city_owner_must_be_an_enterprise_it_sees(province, as_user):
    response = as_user(province.city_jinan).post(
        BRAND_NEW, brand_data(province, owner_uscc=province.bob_ent.uscc)
    )
    assert response.status_code == 422
    assert "没有找到" in field_error(response, "owner_uscc")
    assert not Brand.objects.filter(name="泉城老味").exists()


def test_city_cannot_place_a_brand_in_another_city(province, as_user):
    client = as_user(province.city_jinan)
    regions = client.get(BRAND_NEW).context["form"].fields["region"].queryset
    assert not regions.filter(code="370212").exists()
    response = client.post(
        BRAND_NEW, brand_data(province, owner_uscc=province.alice_ent.uscc, region=province.laoshan.pk)
    )
    assert response.status_code == 422 and field_error(response, "region")


def test_department_brand_outside_its_categories_is_explained_in_the_form(province, as_user):
    response = as_user(province.dept_agri).post(
        url("enterprise-brand-create", province.bob_ent), brand_data(province)
    )
    assert response.status_code == 403
    assert "管辖范围" in response.content.decode()
    assert not Brand.objects.filter(name="泉城老味").exists()


def test_only_the_office_sees_and_sets_tier_and_status(province, as_user):
    alice = as_user(province.alice)
    form = alice.get(url("brand-edit", province.alice_brand)).context["form"]
    assert "tier" not in form.fields and "status" not in form.fields
    response = alice.post(
        url("brand-edit", province.alice_brand),
        brand_data(
            province, name="泉城", region=province.lixia.pk, tier=province.benchmark.pk, status="exited"
        ),
    )
    assert response.status_code == 302, response.context["form"].errors
    province.alice_brand.refresh_from_db()
    assert province.alice_brand.tier == province.pool and province.alice_brand.status == "active"

    office = as_user(province.office)
    data = brand_data(
        province, name="泉城", region=province.lixia.pk, tier=province.member.pk, status="suspended"
    )
    response = office.post(url("brand-edit", province.alice_brand), data)
    assert response.status_code == 302, response.context["form"].errors
    province.alice_brand.refresh_from_db()
    assert province.alice_brand.tier == province.member and province.alice_brand.status == "suspended"
    event = AuditEvent.objects.filter(action="registry.brand.updated").latest("seq")
    assert event.new == {"tier": province.member.pk, "status": "suspended"}


def test_brand_edit_keeps_trademarks_in_one_field(province, as_user):
    Brand.objects.filter(pk=province.alice_brand.pk).update(trademark_numbers=["12345678", "7654321"])
    form = as_user(province.alice).get(url("brand-edit", province.alice_brand)).context["form"]
    assert form.initial["trademark_numbers"] == "12345678，7654321"
    response = as_user(province.alice).post(
        url("brand-edit", province.alice_brand),
        brand_data(province, name="泉城", region=province.lixia.pk, trademark_numbers="TM-1"),
    )
    assert response.status_code == 422 and "注册商标号" in field_error(response, "trademark_numbers")


# --- sources, logo, documents -----------------------------------------------------------------


def test_source_with_evidence_is_added_and_removed(province, as_user):
    client = as_user(province.alice)
    response = client.post(
        url("brand-source-add", province.alice_brand),
        {
            "programme": province.prog_chtb.pk,
            "certificate_number": "SDLZH-2019-0123",
            "year": "2019",
            "file": SimpleUploadedFile("认定文件.pdf", PDF, content_type="application/pdf"),
        },
    )
    assert response.status_code == 302
    source = BrandSource.objects.get(brand=province.alice_brand)
    assert source.certificate_number == "SDLZH-2019-0123" and source.year == 2019
    assert source.document.original_name == "认定文件.pdf" and source.document.purpose == "evidence"
    # Correcting the year keeps the evidence already uploaded.
    client.post(
        url("brand-source-add", province.alice_brand), {"programme": province.prog_chtb.pk, "year": "2020"}
    )
    source.refresh_from_db()
    assert source.year == 2020 and source.document.original_name == "认定文件.pdf"

    response = client.post(url("brand-source-remove", province.alice_brand, source.pk))
    assert response.status_code == 302 and not BrandSource.objects.filter(pk=source.pk).exists()
    assert AuditEvent.objects.filter(action="registry.brand.source_removed").count() == 1


def test_source_with_a_bad_year_or_a_fake_pdf_keeps_the_form(province, as_user):
    client = as_user(province.alice)
    response = client.post(
        url("brand-source-add", province.alice_brand),
        {"programme": province.prog_chtb.pk, "certificate_number": "SD-1", "year": "19"},
    )
    assert response.status_code == 422 and "四位年份" in field_error(response, "year")
    response = client.post(
        url("brand-source-add", province.alice_brand),
        {
            "programme": province.prog_chtb.pk,
            "certificate_number": "SD-1",
            "file": SimpleUploadedFile("认定文件.pdf", b"<html>not a pdf</html>"),
        },
    )
    assert response.status_code == 422 and "只接受" in field_error(response, "file")
    assert "SD-1" in response.content.decode()
    assert not BrandSource.objects.filter(brand=province.alice_brand).exists()
    assert not Document.objects.exists()


def test_removing_a_source_of_someone_elses_brand(province, as_user):
    source = province.bob_brand.sources.get()
    assert (
        as_user(province.alice).post(url("brand-source-remove", province.bob_brand, source.pk)).status_code
        == 404
    )
    assert (
        as_user(province.alice_viewer)
        .post(url("brand-source-remove", province.alice_brand, source.pk))
        .status_code
        == 404
    )  # not a source of this brand
    assert (
        as_user(province.office_viewer)
        .post(url("brand-source-remove", province.bob_brand, source.pk))
        .status_code
        == 403
    )
    assert BrandSource.objects.filter(pk=source.pk).exists()


def test_logo_must_be_an_image(province, as_user):
    client = as_user(province.alice)
    response = client.post(
        url("brand-logo", province.alice_brand), {"file": SimpleUploadedFile("logo.png", PDF)}
    )
    assert response.status_code == 422 and "PNG" in field_error(response, "file")
    response = client.post(
        url("brand-logo", province.alice_brand), {"file": SimpleUploadedFile("logo.png", png_bytes())}
    )
    assert response.status_code == 302
    province.alice_brand.refresh_from_db()
    assert province.alice_brand.logo.content_type == "image/png"


def test_enterprise_uploads_a_document_and_oversized_files_are_refused(province, as_user, settings):
    client = as_user(province.alice)
    path = url("enterprise-document-upload", province.alice_ent)
    response = client.post(
        path, {"purpose": "licence", "title": "营业执照", "file": SimpleUploadedFile("执照.pdf", PDF)}
    )
    assert response.status_code == 302
    assert Document.objects.get().title == "营业执照"
    settings.MAX_UPLOAD_MB = 1
    response = client.post(
        path,
        {
            "purpose": "licence",
            "title": "大文件",
            "file": SimpleUploadedFile("big.pdf", PDF + b"0" * 1024 * 1024),
        },
    )
    assert response.status_code == 422 and "1 MB" in field_error(response, "file")
    assert Document.objects.count() == 1


# --- products ---------------------------------------------------------------------------------


def product_data(**extra) -> dict:
    return {
        "kind": "goods",
        "name": "泉城把子肉",
        "specification": "300g",
        "standard_codes": "GB 2726-2016",
        **extra,
    }


def test_product_with_wrong_gtin_shows_the_expected_digit_and_keeps_the_rest(province, as_user):
    gtin = make_gtin("6901234", 20)
    wrong = gtin[:-1] + str((int(gtin[-1]) + 1) % 10)
    client = as_user(province.alice)
    path = url("product-create", province.alice_brand)
    checked = validate(client, path, product_data(gtin=wrong), "gtin")
    assert checked.status_code == 200 and f"末位应为 {gtin[-1]}" in checked.content.decode()
    response = client.post(path, product_data(gtin=wrong))
    assert response.status_code == 422
    assert f"末位应为 {gtin[-1]}" in field_error(response, "gtin")
    assert "泉城把子肉" in response.content.decode() and "GB 2726-2016" in response.content.decode()
    response = client.post(path, product_data(gtin=gtin))
    product = Product.objects.get(name="泉城把子肉")
    assert response.status_code == 302 and response["Location"] == product.get_absolute_url()
    assert product.gtin == gtin


def test_duplicate_gtin_and_malformed_standard_are_named(province, as_user):
    response = as_user(province.alice).post(
        url("product-create", province.alice_brand),
        product_data(gtin=province.bob_product.gtin, standard_codes="ISO 9001"),
    )
    assert response.status_code == 422
    assert field_error(response, "gtin") == "该商品条码已被其他产品使用。"
    assert "ISO 9001" in field_error(response, "standard_codes")


def test_duplicate_name_and_specification_is_shown_on_the_name(province, as_user):
    response = as_user(province.alice).post(
        url("product-create", province.alice_brand), product_data(name="泉城酥锅", specification="500g")
    )
    assert response.status_code == 422 and "同名同规格" in field_error(response, "name")


def test_product_edit_and_delete(province, as_user):
    client = as_user(province.alice)
    product = province.alice_product
    form = client.get(url("product-edit", product)).context["form"]
    assert form.initial["standard_codes"] == "GB 2726-2016"
    response = client.post(
        url("product-edit", product), product_data(name="泉城酥锅", specification="1kg", gtin=product.gtin)
    )
    assert response.status_code == 302
    product.refresh_from_db()
    assert product.specification == "1kg"
    assert "确定删除" in client.get(url("product-delete", product)).content.decode()
    response = client.post(url("product-delete", product))
    assert response.status_code == 302 and response["Location"] == province.alice_brand.get_absolute_url()
    assert not Product.objects.filter(pk=product.pk).exists()
    assert AuditEvent.objects.filter(action="registry.product.deleted").count() == 1


def test_read_only_member_cannot_delete_a_product(province, as_user):
    client = as_user(province.alice_viewer)
    assert client.get(url("product-delete", province.alice_product)).status_code == 403
    assert client.post(url("product-delete", province.alice_product)).status_code == 403
    assert Product.objects.filter(pk=province.alice_product.pk).exists()


def test_forms_answer_only_get_and_post(province, as_user):
    assert as_user(province.office).put(ENTERPRISE_NEW).status_code == 405
    assert as_user(province.alice).get(url("brand-source-remove", province.bob_brand, 1)).status_code == 405


def test_region_choices_are_counties_with_their_city(province, as_user):
    form = as_user(province.office).get(ENTERPRISE_NEW).context["form"]
    assert all(r.level == Region.Level.COUNTY for r in form.fields["region"].queryset)
    assert "济南市历下区" in str(form["region"])
