"""Workspace pages of the standards catalogue and the rule sets: who sees and who edits, the
draft editor (add, change, remove with inline checks, the live list of problems, publishing),
published rule sets read-only, new versions, retiring, the Excel round trip, and query counts."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from haopin.core.models import AuditEvent, Category
from haopin.standards import excel, services
from haopin.standards.defaults import fill_rule_set
from haopin.standards.models import Criterion, Indicator, RuleSet, Standard, VetoItem

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
STANDARDS = reverse("standards:standard-list")
RULE_SETS = reverse("standards:ruleset-list")


def url(name: str, obj, *extra) -> str:
    return reverse(f"standards:{name}", args=[obj.uuid, *extra])


def field_error(response, field: str) -> str:
    errors = response.context["form"].errors.get(field)
    assert errors, (field, response.context["form"].errors)
    return errors[0]


@pytest.fixture
def food(province):
    return Category.objects.get(code="201")


@pytest.fixture
def draft(province, food):
    rule_set = services.ruleset_create(
        actor=province.office,
        category=food,
        brand_type=province.product_type,
        title="食品饮料产品品牌评价细则",
    )
    return fill_rule_set(actor=province.office, rule_set=rule_set)


@pytest.fixture
def published(province, draft):
    return services.ruleset_publish(actor=province.office, rule_set=draft)


@pytest.fixture
def standard(province):
    return services.standard_create(
        actor=province.office,
        code="GB 2760-2014",
        title="食品添加剂使用标准",
        categories=[province.cat_food],
    )


# --- the catalogue ----------------------------------------------------------------------------------


def test_everyone_signed_in_reads_the_catalogue_and_only_the_office_sees_the_button(
    province, as_user, standard
):
    for user in (province.alice, province.city_jinan, province.expert, province.office_viewer):
        response = as_user(user).get(STANDARDS)
        assert response.status_code == 200
        assert [row.cells[0].text for row in response.context["rows"]] == ["GB 2760-2014"]
        assert reverse("standards:standard-create") not in response.content.decode()
        assert as_user(user).get(url("standard-detail", standard)).status_code == 200
        assert as_user(user).get(url("standard-edit", standard)).status_code == 403
    assert reverse("standards:standard-create") in as_user(province.office).get(STANDARDS).content.decode()


def test_anonymous_visitors_are_sent_to_sign_in(client, standard):
    for path in (STANDARDS, url("standard-detail", standard), RULE_SETS):
        response = client.get(path)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["GB 2760-2014", "GB/T 19001-2016", "T/SDAQI 001-2022"]),
        ("?level=group", ["T/SDAQI 001-2022"]),
        ("?status=superseded", ["GB/T 19001-2016"]),
        ("?haopin=yes", ["T/SDAQI 001-2022"]),
        ("?haopin=no", ["GB 2760-2014", "GB/T 19001-2016"]),
        ("?category=201", ["GB 2760-2014", "T/SDAQI 001-2022"]),
        ("?category=105", []),
        ("?q=19001", ["GB/T 19001-2016"]),
        ("?q=评价", ["T/SDAQI 001-2022"]),
        ("?sort=-code", ["T/SDAQI 001-2022", "GB/T 19001-2016", "GB 2760-2014"]),
    ],
)
def test_catalogue_filters_and_search(province, as_user, standard, query, expected):
    services.standard_create(
        actor=province.office,
        code="GB/T 19001-2016",
        title="质量管理体系 要求",
        status=Standard.Status.SUPERSEDED,
    )
    services.standard_create(
        actor=province.office,
        code="T/SDAQI 001-2022",
        title="好品山东 评价通则",
        is_haopin=True,
        categories=[Category.objects.get(code="201")],
    )
    response = as_user(province.office).get(STANDARDS + query)
    assert [row.cells[0].text for row in response.context["rows"]] == expected


def test_catalogue_exports_what_is_filtered(province, as_user, standard):
    response = as_user(province.alice).get(STANDARDS + "?q=2760&export=xlsx")
    rows = list(load_workbook(io.BytesIO(b"".join(response.streaming_content))).active.values)
    assert rows[0][:4] == ("标准编号", "标准名称", "层级", "状态")
    assert rows[1][:5] == ("GB 2760-2014", "食品添加剂使用标准", "国家标准", "现行", "否")
    assert rows[1][5] == "加工食品"


def test_catalogue_query_count_does_not_grow_with_the_page(province, as_user, django_assert_max_num_queries):
    for n in range(30):
        services.standard_create(
            actor=province.office,
            code=f"GB {1000 + n}-2020",
            title=f"标准{n}",
            categories=[province.cat_food],
        )
    client = as_user(province.office)
    client.get(STANDARDS)  # warm the session and the user's scope
    with django_assert_max_num_queries(9) as small:
        client.get(STANDARDS + "?size=20")
    with django_assert_max_num_queries(len(small.captured_queries)):
        client.get(STANDARDS + "?size=100")


def test_office_registers_a_standard_and_the_level_follows_the_code(province, as_user):
    response = as_user(province.office).post(
        reverse("standards:standard-create"),
        {
            "code": "db37/t 1234—2020",
            "title": "地理标志产品 崂山绿茶",
            "status": "current",
            "categories": [province.cat_tea.pk],
        },
    )
    standard = Standard.objects.get()
    assert response.status_code == 302 and response["Location"] == standard.get_absolute_url()
    assert (standard.code, standard.level) == ("DB37/T 1234-2020", "local")
    assert list(standard.categories.all()) == [province.cat_tea]
    assert AuditEvent.objects.get(action="standards.standard.created").actor_id == province.office.pk


def test_bad_and_duplicate_codes_are_shown_next_to_the_field(province, as_user, standard):
    client = as_user(province.office)
    response = client.post(
        reverse("standards:standard-create"), {"code": "ISO 9001", "title": "x", "status": "current"}
    )
    assert response.status_code == 422 and "格式不正确" in field_error(response, "code")
    response = client.post(
        reverse("standards:standard-create"), {"code": "GB 2760-2014", "title": "重复", "status": "current"}
    )
    assert response.status_code == 422 and "已在目录中" in field_error(response, "code")
    assert Standard.objects.count() == 1


def test_inline_check_of_a_code_saves_nothing(province, as_user, standard):
    response = as_user(province.office).post(
        reverse("standards:standard-create"),
        {"code": "GB 2760-2014", "title": "重复", "status": "current", "_validate": "1"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert 'id="field-code"' in response.content.decode() and "已在目录中" in response.content.decode()
    response = as_user(province.office).post(
        reverse("standards:standard-create"),
        {"code": "GB 1886.1-2015", "title": "新标准", "status": "current", "_validate": "1"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert (
        Standard.objects.count() == 1 and not AuditEvent.objects.filter(new__code="GB 1886.1-2015").exists()
    )


def test_office_edits_a_standard_and_marks_it_superseded(province, as_user, standard):
    newer = services.standard_create(actor=province.office, code="GB 2760-2024", title="食品添加剂使用标准")
    response = as_user(province.office).post(
        url("standard-edit", standard),
        {"title": standard.title, "level": "national", "status": "superseded", "replaced_by": newer.pk},
    )
    assert response.status_code == 302
    standard.refresh_from_db()
    assert standard.status == "superseded" and standard.replaced_by == newer
    page = as_user(province.alice).get(url("standard-detail", standard)).content.decode()
    assert "被代替" in page and "GB 2760-2024" in page and "修改信息" not in page


def test_read_only_office_member_cannot_edit(province, as_user, standard):
    client = as_user(province.office_viewer)
    response = client.post(
        url("standard-edit", standard), {"title": "改名", "level": "national", "status": "current"}
    )
    assert response.status_code == 403
    standard.refresh_from_db()
    assert standard.title == "食品添加剂使用标准"


def test_office_uploads_the_text_as_pdf_and_readers_open_it(province, as_user, standard):
    client = as_user(province.office)
    bad = client.post(
        url("standard-file", standard),
        {"file": SimpleUploadedFile("a.pdf", b"\x89PNG\r\n\x1a\n" + b"0" * 50)},
    )
    assert bad.status_code == 422 and "只接受 PDF" in field_error(bad, "file")
    standard.refresh_from_db()
    assert not standard.file
    good = client.post(url("standard-file", standard), {"file": SimpleUploadedFile("gb2760.pdf", PDF)})
    assert good.status_code == 302
    response = as_user(province.alice).get(url("standard-file-download", standard))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content) == PDF
    assert "sandbox" in response["Content-Security-Policy"]


# --- rule sets: who sees what ---------------------------------------------------------------------


def test_drafts_are_the_office_s_and_published_rule_sets_everyone_s(province, as_user, draft):
    for user in (province.alice, province.city_jinan, province.expert):
        assert as_user(user).get(url("ruleset-detail", draft)).status_code == 404
        assert as_user(user).get(RULE_SETS).context["rows"] == []
    services.ruleset_publish(actor=province.office, rule_set=draft)
    for user in (province.alice, province.city_jinan, province.expert):
        page = as_user(user).get(url("ruleset-detail", draft))
        assert page.status_code == 200 and "质量管理体系" in page.content.decode()
        assert url("ruleset-new-version", draft) not in page.content.decode()
        assert as_user(user).post(url("ruleset-new-version", draft)).status_code == 403


def test_rule_set_list_filters_and_groups_versions(province, as_user, published, food):
    second = services.ruleset_new_version(actor=province.office, rule_set=published)
    tea = services.ruleset_create(
        actor=province.office,
        category=Category.objects.get(code="105"),
        brand_type=province.gi_type,
        title="茶叶地理标志品牌评价细则",
    )
    client = as_user(province.office)
    rows = client.get(RULE_SETS).context["rows"]
    assert [(r.obj, r.cells[3].text, r.cells[4].text) for r in rows] == [
        (tea, "第 1 版", "草稿"),
        (second, "第 2 版", "草稿"),
        (published, "第 1 版", "已发布"),
    ]
    assert [r.obj for r in client.get(RULE_SETS + "?category=201").context["rows"]] == [second, published]
    assert [r.obj for r in client.get(RULE_SETS + "?type=gi").context["rows"]] == [tea]
    assert [r.obj for r in client.get(RULE_SETS + "?status=published").context["rows"]] == [published]


def test_rule_set_list_query_count_does_not_grow(province, as_user, django_assert_max_num_queries):
    categories = list(Category.objects.filter(level=2))[:12]
    for category in categories:
        services.ruleset_create(
            actor=province.office, category=category, brand_type=province.product_type, title=category.name
        )
    client = as_user(province.office)
    client.get(RULE_SETS)
    with django_assert_max_num_queries(9) as small:
        client.get(RULE_SETS + "?size=20")
    with django_assert_max_num_queries(len(small.captured_queries)):
        client.get(RULE_SETS + "?size=100&export=")


# --- the draft editor -------------------------------------------------------------------------------


def test_the_office_creates_a_draft_prefilled_from_the_model(province, as_user, food):
    response = as_user(province.office).post(
        reverse("standards:ruleset-create"),
        {
            "category": food.pk,
            "brand_type": province.product_type.pk,
            "title": "食品饮料产品品牌评价细则",
            "pass_line": "80",
            "start": "model",
        },
    )
    rule_set = RuleSet.objects.get()
    assert response.status_code == 302 and response["Location"] == rule_set.get_absolute_url()
    assert rule_set.status == "draft" and rule_set.indicators.count() == 21 and rule_set.criteria.count() == 8
    assert services.ruleset_problems(rule_set) == []


def test_a_second_draft_for_the_same_category_and_type_is_refused_in_the_form(province, as_user, draft, food):
    response = as_user(province.office).post(
        reverse("standards:ruleset-create"),
        {
            "category": food.pk,
            "brand_type": province.product_type.pk,
            "title": "另一份",
            "pass_line": "80",
            "start": "empty",
        },
    )
    assert response.status_code == 422 and "已有草稿版本" in field_error(response, "category")
    assert RuleSet.objects.count() == 1


def test_the_draft_page_is_the_editor_with_the_tree_and_the_problems(province, as_user, draft):
    page = as_user(province.office).get(url("ruleset-detail", draft)).content.decode()
    for text in (
        "质量",
        "质量管理体系",
        "评分要点",
        "否决项",
        "在山东省内依法注册登记满 5 年。",
        "自动：在鲁注册年限（年） ≥ 5",
    ):
        assert text in page, text
    assert "内容完整" in page and 'id="add-indicator"' in page
    assert reverse("standards:ruleset-publish", args=[draft.uuid]) in page


def test_adding_an_indicator_updates_the_problems_and_audits(province, as_user, draft):
    quality = Indicator.objects.get(rule_set=draft, code="1")
    add = reverse("standards:ruleset-item-add", args=[draft.uuid, "indicator"])
    response = as_user(province.office).post(
        add,
        {
            "indicator-parent": quality.pk,
            "indicator-code": "1.4",
            "indicator-name": "质量文化",
            "indicator-max_score": "2",
        },
        HTTP_HX_REQUEST="true",
        follow=True,
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "质量文化" in page
    assert "一级指标“质量”分值为 30，其二级指标合计 32，两者应相等。" in page
    assert reverse("standards:ruleset-publish", args=[draft.uuid]) not in page  # publishing waits
    item = Indicator.objects.get(rule_set=draft, code="1.4")
    assert (
        item.parent == quality and item.position > Indicator.objects.get(rule_set=draft, code="1.3").position
    )
    assert AuditEvent.objects.filter(action="standards.ruleset.item_added", new__code="1.4").exists()


def test_an_invalid_item_comes_back_in_place_and_nothing_is_added(province, as_user, draft):
    add = reverse("standards:ruleset-item-add", args=[draft.uuid, "criterion"])
    data = {"criterion-code": "Z9", "criterion-text": "营业收入", "criterion-metric": "revenue"}
    client = as_user(province.office)
    htmx = client.post(add, data, HTTP_HX_REQUEST="true")
    assert htmx.status_code == 200  # swapped into the editor
    assert 'id="editor"' in htmx.content.decode() and "请选择比较方式" in htmx.content.decode()
    assert field_error_of(htmx.context["add_forms"]["criterion"], "operator") == "请选择比较方式。"
    plain = client.post(add, data)
    assert plain.status_code == 422 and "请选择比较方式" in field_error(plain, "operator")
    duplicate = client.post(add, {"criterion-code": "Z1", "criterion-text": "重复编号"})
    assert duplicate.status_code == 422 and "编号" in field_error(duplicate, "code")
    assert not Criterion.objects.filter(rule_set=draft, code="Z9").exists()
    assert not AuditEvent.objects.filter(action="standards.ruleset.item_added", new__code="Z9").exists()


def field_error_of(form, field: str) -> str:
    return form.errors[field][0]


def test_inline_check_of_an_item_field_is_a_dry_run(province, as_user, draft):
    add = reverse("standards:ruleset-item-add", args=[draft.uuid, "veto"])
    response = as_user(province.office).post(
        add, {"veto-code": "F1", "veto-text": "重复", "_validate": "1"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert 'id="field-veto-code"' in response.content.decode() and "编号" in response.content.decode()
    response = as_user(province.office).post(
        add, {"veto-code": "F9", "veto-text": "新增情形", "_validate": "1"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert not VetoItem.objects.filter(rule_set=draft, code="F9").exists()


def test_editing_and_removing_items(province, as_user, draft):
    client = as_user(province.office)
    leaf = Indicator.objects.get(rule_set=draft, code="1.1")
    edit = reverse("standards:ruleset-item-edit", args=[draft.uuid, "indicator", leaf.pk])
    assert client.get(edit).status_code == 200
    response = client.post(
        edit,
        {
            "indicator-parent": leaf.parent_id,
            "indicator-code": "1.1",
            "indicator-name": "质量管理体系",
            "indicator-max_score": "0",
        },
    )
    assert response.status_code == 422 and field_error(response, "max_score")
    leaf.refresh_from_db()
    assert leaf.max_score == Decimal("10")
    response = client.post(
        edit,
        {
            "indicator-parent": leaf.parent_id,
            "indicator-code": "1.1",
            "indicator-name": "质量管理体系建设",
            "indicator-max_score": "10",
            "indicator-position": leaf.position,
        },
    )
    assert response.status_code == 302
    leaf.refresh_from_db()
    assert leaf.name == "质量管理体系建设"
    veto = VetoItem.objects.get(rule_set=draft, code="F1")
    remove = reverse("standards:ruleset-item-remove", args=[draft.uuid, "veto", veto.pk])
    confirm = client.get(remove)  # the link without JavaScript asks first
    assert confirm.status_code == 200 and "确定从" in confirm.content.decode()
    assert VetoItem.objects.filter(pk=veto.pk).exists()
    assert client.post(remove).status_code == 302
    assert not VetoItem.objects.filter(pk=veto.pk).exists()
    assert AuditEvent.objects.filter(action="standards.ruleset.item_removed").count() == 1


def test_items_of_another_rule_set_are_not_found(province, as_user, draft, food):
    other = services.ruleset_create(
        actor=province.office,
        category=food,
        brand_type=province.gi_type,
        title="食品饮料地理标志品牌评价细则",
    )
    item = Indicator.objects.filter(rule_set=draft).first()
    client = as_user(province.office)
    assert (
        client.get(
            reverse("standards:ruleset-item-edit", args=[other.uuid, "indicator", item.pk])
        ).status_code
        == 404
    )
    assert (
        client.post(
            reverse("standards:ruleset-item-remove", args=[other.uuid, "indicator", item.pk])
        ).status_code
        == 404
    )
    assert client.get(reverse("standards:ruleset-item-add", args=[draft.uuid, "nonsense"])).status_code == 404


def test_read_only_office_member_sees_the_draft_but_cannot_edit(province, as_user, draft):
    client = as_user(province.office_viewer)
    page = client.get(url("ruleset-detail", draft)).content.decode()
    assert "您的账号为只读" in page and 'id="add-indicator"' not in page
    assert reverse("standards:ruleset-publish", args=[draft.uuid]) not in page
    add = reverse("standards:ruleset-item-add", args=[draft.uuid, "veto"])
    assert client.post(add, {"veto-code": "F9", "veto-text": "x"}).status_code == 403
    assert client.post(url("ruleset-publish", draft)).status_code == 403
    draft.refresh_from_db()
    assert draft.status == "draft" and not VetoItem.objects.filter(code="F9").exists()


def test_publishing_is_refused_while_problems_remain(province, as_user, draft):
    leaf = Indicator.objects.get(rule_set=draft, code="1.1")
    services.ruleset_item_update(actor=province.office, item=leaf, max_score=Decimal("9"))
    response = as_user(province.office).post(url("ruleset-publish", draft), follow=True)
    assert "不能发布" in response.content.decode()
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_publishing_freezes_the_rule_set_with_a_clear_note(province, as_user, draft):
    client = as_user(province.office)
    response = client.post(url("ruleset-publish", draft))
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.status == "published"
    page = client.get(url("ruleset-detail", draft)).content.decode()
    assert "内容已锁定" in page and "创建新版本" in page and 'id="add-indicator"' not in page
    leaf = Indicator.objects.get(rule_set=draft, code="1.1")
    edit = reverse("standards:ruleset-item-edit", args=[draft.uuid, "indicator", leaf.pk])
    response = client.post(
        edit, {"indicator-code": "1.1", "indicator-name": "改", "indicator-max_score": "10"}
    )
    assert response.status_code == 409 and "创建新版本" in response.content.decode()
    assert client.get(url("ruleset-edit", draft)).status_code == 409
    assert client.get(url("ruleset-import", draft)).status_code == 409


def test_a_new_version_copies_the_published_one_and_opens_as_a_draft(province, as_user, published):
    client = as_user(province.office)
    response = client.post(url("ruleset-new-version", published))
    second = RuleSet.objects.get(version=2)
    assert response.status_code == 302 and response["Location"] == second.get_absolute_url()
    assert second.status == "draft" and second.based_on == published and second.indicators.count() == 21
    page = client.get(url("ruleset-detail", published)).content.decode()
    assert "打开草稿（第 2 版）" in page
    response = client.post(url("ruleset-new-version", published), follow=True)
    assert "已有草稿版本" in response.content.decode() and RuleSet.objects.count() == 2


def test_retiring_a_published_rule_set(province, as_user, published):
    response = as_user(province.office).post(url("ruleset-retire", published), follow=True)
    published.refresh_from_db()
    assert published.status == "retired" and "已停用" in response.content.decode()
    assert AuditEvent.objects.filter(action="standards.ruleset.retired").count() == 1


def test_editing_the_basic_information_of_a_draft(province, as_user, draft):
    client = as_user(province.office)
    bad = client.post(url("ruleset-edit", draft), {"title": "", "pass_line": "-1"})
    assert bad.status_code == 422
    good = client.post(
        url("ruleset-edit", draft), {"title": "食品饮料产品品牌评价细则（试行）", "pass_line": "75"}
    )
    assert good.status_code == 302
    draft.refresh_from_db()
    assert draft.pass_line == Decimal("75") and draft.title.endswith("（试行）")


# --- Excel ------------------------------------------------------------------------------------------


def test_export_and_import_round_trip(province, as_user, published, food):
    client = as_user(province.alice)
    response = client.get(url("ruleset-export", published))
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    content = response.content
    sheets = load_workbook(io.BytesIO(content)).sheetnames
    assert sheets == ["细则", "指标", "否决项", "资格条件"]

    empty = services.ruleset_create(
        actor=province.office, category=food, brand_type=province.gi_type, title="空白"
    )
    office = as_user(province.office)
    assert office.get(url("ruleset-import", empty)).status_code == 200
    response = office.post(url("ruleset-import", empty), {"file": SimpleUploadedFile("r.xlsx", content)})
    assert response.status_code == 302
    assert empty.indicators.count() == 21 and empty.veto_items.count() == 4
    assert AuditEvent.objects.filter(action="standards.ruleset.imported").count() == 1
    page = office.get(url("ruleset-detail", empty))
    assert page.status_code == 200 and "导入评价细则" in page.content.decode()


def test_a_bad_workbook_lists_every_error_and_changes_nothing(province, as_user, draft):
    workbook = load_workbook(io.BytesIO(excel.export(draft)))
    workbook["指标"]["D2"] = "三十"
    workbook["资格条件"]["D2"] = "约等于"
    buffer = io.BytesIO()
    workbook.save(buffer)
    before = draft.indicators.count()
    response = as_user(province.office).post(
        url("ruleset-import", draft), {"file": SimpleUploadedFile("bad.xlsx", buffer.getvalue())}
    )
    assert response.status_code == 422
    errors = response.context["errors"]
    assert {(e["sheet"], e["row"], e["column"]) for e in errors} >= {
        ("指标", 2, "分值"),
        ("资格条件", 2, "比较方式"),
    }
    assert "导入未完成" in response.content.decode()
    assert draft.indicators.count() == before
    not_excel = as_user(province.office).post(
        url("ruleset-import", draft), {"file": SimpleUploadedFile("x.xlsx", PDF)}
    )
    assert not_excel.status_code == 422 and "只接受 Excel" in field_error(not_excel, "file")
