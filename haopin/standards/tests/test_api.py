"""API: the standards catalogue and rule sets — reading within the policy, the office's drafting
(items, publication, versions, retirement), the .xlsx round trip, and every refusal."""

from __future__ import annotations

import io
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from haopin.core.models import AuditEvent, Category
from haopin.standards import excel, services
from haopin.standards.defaults import fill_rule_set
from haopin.standards.models import Indicator, RuleSet, Standard

API = "/api/v1"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def send(client, method, path, body=None, **extra):
    if body is None:
        return client.generic(method.upper(), f"{API}{path}", **extra)
    return client.generic(
        method.upper(), f"{API}{path}", json.dumps(body), content_type="application/json", **extra
    )


def assert_error(response, status, code, field=None):
    assert response.status_code == status, response.content.decode()
    body = response.json()
    assert set(body) == {"code", "message", "details"}
    assert body["code"] == code and body["message"], body
    if field is not None:
        assert field in body["details"], body
    return body


def events(action):
    return AuditEvent.objects.filter(action=action).count()


@pytest.fixture
def catalogue(province):
    iso = Standard.objects.create(code="GB/T 19001-2016", title="质量管理体系 要求", level="national")
    iso.categories.set([Category.objects.get(code="2")])
    group = Standard.objects.create(
        code="T/SDAQI 001-2022", title="好品山东 食品通用要求", level="group", is_haopin=True
    )
    group.categories.set([province.cat_food])
    old = Standard.objects.create(
        code="GB 2726-2005", title="熟肉制品卫生标准", level="national", status="withdrawn"
    )
    return iso, group, old


@pytest.fixture
def food():
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


# --- the catalogue ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ["GB 2726-2005", "GB/T 19001-2016", "T/SDAQI 001-2022"]),
        ({"level": "group"}, ["T/SDAQI 001-2022"]),
        ({"status": "withdrawn"}, ["GB 2726-2005"]),
        ({"category": "20101"}, ["T/SDAQI 001-2022"]),
        ({"category": "2"}, ["GB/T 19001-2016", "T/SDAQI 001-2022"]),
        ({"haopin": "true"}, ["T/SDAQI 001-2022"]),
        ({"haopin": "false"}, ["GB 2726-2005", "GB/T 19001-2016"]),
        ({"q": "质量管理"}, ["GB/T 19001-2016"]),
        ({"q": "t/sdaqi"}, ["T/SDAQI 001-2022"]),
    ],
)
def test_the_catalogue_filters(province, as_user, catalogue, params, expected):
    response = as_user(province.alice).get(f"{API}/standards", params)
    assert response.status_code == 200, response.content
    assert [s["code"] for s in response.json()["items"]] == expected


def test_a_standard_is_read_by_its_code_slash_and_all(province, as_user, catalogue):
    client = as_user(province.expert)
    body = client.get(f"{API}/standards/GB/T%2019001-2016").json()
    assert body["title"] == "质量管理体系 要求" and body["level_label"] == "国家标准"
    assert body["categories"] == [{"code": "2", "name": Category.objects.get(code="2").name}]
    # Typed as people type it: lower case, full-width slash, no space.
    assert client.get(f"{API}/standards/gb／t19001-2016").json()["code"] == "GB/T 19001-2016"
    assert_error(client.get(f"{API}/standards/GB/T%209999-2020"), 404, "not_found")


@pytest.mark.parametrize(
    ("params", "field"), [({"level": "city"}, "level"), ({"category": "99999"}, "category")]
)
def test_catalogue_filters_reject_unknown_values(province, as_user, params, field):
    assert_error(as_user(province.alice).get(f"{API}/standards", params), 422, "validation_error", field)


def test_the_catalogue_is_for_signed_in_users(client, catalogue):
    assert_error(client.get(f"{API}/standards"), 401, "unauthenticated")


def test_the_office_registers_and_corrects_a_standard(province, as_user, catalogue):
    client = as_user(province.office)
    response = send(
        client,
        "post",
        "/standards",
        {
            "code": "db37/t 1234-2020",
            "title": "山东地方标准",
            "categories": ["20101"],
            "replaced_by": "GB 2726-2005",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["code"], body["level"], body["replaced_by"]) == ("DB37/T 1234-2020", "local", "GB 2726-2005")
    assert events("standards.standard.created") == 1
    response = send(
        client, "patch", "/standards/DB37/T%201234-2020", {"status": "superseded", "categories": []}
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "superseded" and response.json()["categories"] == []
    event = AuditEvent.objects.get(action="standards.standard.updated")
    assert event.new["status"] == "superseded"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"code": "ABC", "title": "x"}, "code"),
        ({"code": "GB/T 19001-2016", "title": "重复"}, "code"),
        ({"code": "GB 1-2020", "title": "x", "categories": ["99"]}, "category"),
        ({"code": "GB 1-2020", "title": "x", "replaced_by": "GB 404"}, "replaced_by"),
        ({"code": "GB 1-2020", "title": ""}, "title"),
        ({"code": "GB 1-2020", "title": "x", "level": "city"}, "level"),
        ({"code": "GB 1-2020", "title": "x", "colour": "red"}, "colour"),
    ],
)
def test_bad_standards_are_refused(province, as_user, catalogue, body, field):
    before = Standard.objects.count()
    assert_error(send(as_user(province.office), "post", "/standards", body), 422, "validation_error", field)
    assert Standard.objects.count() == before and not events("standards.standard.created")


def test_only_the_office_writes_the_catalogue(province, as_user, catalogue):
    for user in (province.office_viewer, province.alice, province.dept_agri, province.expert):
        client = as_user(user)
        assert_error(
            send(client, "post", "/standards", {"code": "GB 1-2020", "title": "x"}), 403, "permission_denied"
        )
        response = send(client, "patch", "/standards/GB/T%2019001-2016", {"title": "改名"})
        assert_error(response, 403, "permission_denied")
    assert Standard.objects.get(code="GB/T 19001-2016").title == "质量管理体系 要求"
    assert not AuditEvent.objects.filter(action__startswith="standards.standard").exists()


def test_wrong_methods_are_405(province, as_user, catalogue):
    client = as_user(province.office)
    assert_error(send(client, "delete", "/standards"), 405, "method_not_allowed")
    assert_error(send(client, "put", "/standards/GB/T%2019001-2016", {}), 405, "method_not_allowed")
    assert_error(send(client, "delete", "/rule-sets"), 405, "method_not_allowed")


def test_the_catalogue_costs_the_same_whatever_the_page_size(province, as_user, catalogue):
    for n in range(20):
        Standard.objects.create(code=f"GB {n + 100}-2020", title=f"标准{n}", level="national").categories.set(
            [province.cat_food]
        )
    client = as_user(province.alice)
    client.get(f"{API}/standards")
    with CaptureQueriesContext(connection) as small:
        assert len(client.get(f"{API}/standards", {"limit": 2}).json()["items"]) == 2
    with CaptureQueriesContext(connection) as large:
        assert len(client.get(f"{API}/standards", {"limit": 20}).json()["items"]) == 20
    assert len(small) == len(large) <= 6


# --- rule sets: reading ----------------------------------------------------------------------------


def test_drafts_are_the_offices(province, as_user, draft):
    path = f"{API}/rule-sets/{draft.uuid}"
    assert as_user(province.office).get(path).status_code == 200
    assert as_user(province.office_viewer).get(path).status_code == 200
    for user in (province.alice, province.city_jinan, province.expert):
        assert_error(as_user(user).get(path), 404, "not_found")
        assert as_user(user).get(f"{API}/rule-sets").json()["count"] == 0


def test_a_published_rule_set_shows_its_whole_tree(province, as_user, published):
    body = as_user(province.alice).get(f"{API}/rule-sets/{published.uuid}").json()
    assert (body["status"], body["editable"], body["problems"]) == ("published", False, [])
    assert body["category"] == {"code": "201", "name": "食品饮料"} and body["brand_type"]["code"] == "product"
    assert [d["name"] for d in body["indicators"]] == [
        "质量",
        "创新",
        "品牌",
        "效益",
        "绿色发展",
        "信用与社会责任",
    ]
    quality = body["indicators"][0]
    assert (quality["max_score"], [c["code"] for c in quality["children"]]) == (30, ["1.1", "1.2", "1.3"])
    assert sum(d["max_score"] for d in body["indicators"]) == 100
    assert [v["code"] for v in body["veto_items"]] == ["F1", "F2", "F3", "F4"]
    revenue = next(c for c in body["criteria"] if c["metric"] == "revenue")
    assert (revenue["automatic"], revenue["operator_label"], revenue["threshold"]) == (True, "≥", 2000)
    manual = body["criteria"][-1]
    assert (manual["automatic"], manual["metric"], manual["threshold"]) == (False, "", None)


def test_rule_sets_filter(province, as_user, published):
    client = as_user(province.office)
    tea = services.ruleset_create(
        actor=province.office,
        category=Category.objects.get(code="105"),
        brand_type=province.gi_type,
        title="茶叶",
    )
    cases = [
        ({"category": "2"}, [published.uuid]),
        ({"category": "105"}, [tea.uuid]),
        ({"brand_type": "gi"}, [tea.uuid]),
        ({"status": "draft"}, [tea.uuid]),
        ({"status": "published"}, [published.uuid]),
    ]
    for params, expected in cases:
        assert [r["uuid"] for r in client.get(f"{API}/rule-sets", params).json()["items"]] == [
            str(u) for u in expected
        ]
    assert_error(client.get(f"{API}/rule-sets", {"status": "old"}), 422, "validation_error", "status")


# --- rule sets: drafting ---------------------------------------------------------------------------


def test_the_office_drafts_a_rule_set_from_the_model(province, as_user):
    body = {"category": "201", "brand_type": "product", "title": "食品饮料评价细则", "template": "default"}
    response = send(as_user(province.office), "post", "/rule-sets", body)
    assert response.status_code == 201, response.content
    created = response.json()
    assert (created["status"], created["version"], created["problems"]) == ("draft", 1, [])
    assert len(created["indicators"]) == 6 and len(created["criteria"]) == 8
    assert events("standards.ruleset.created") == 1 and events("standards.ruleset.item_added") > 20


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        ({"category": "999", "brand_type": "product", "title": "x"}, 422, "validation_error", "category"),
        ({"category": "201", "brand_type": "planet", "title": "x"}, 422, "validation_error", "brand_type"),
        (
            {"category": "201", "brand_type": "product", "title": "x", "pass_line": 101},
            422,
            "validation_error",
            "pass_line",
        ),
        (
            {"category": "201", "brand_type": "product", "title": "x", "pass_line": "NaN"},
            422,
            "validation_error",
            "pass_line",
        ),
        ({"category": "201", "brand_type": "product"}, 422, "validation_error", "title"),
        (
            {"category": "201", "brand_type": "product", "title": "x", "template": "all"},
            422,
            "validation_error",
            "template",
        ),
    ],
)
def test_bad_rule_sets_are_refused(province, as_user, body, status, code, field):
    assert_error(send(as_user(province.office), "post", "/rule-sets", body), status, code, field)
    assert not RuleSet.objects.exists()


def test_the_office_changes_a_drafts_title_and_pass_line(province, as_user, draft):
    client = as_user(province.office)
    body = ok_json(
        send(
            client,
            "patch",
            f"/rule-sets/{draft.uuid}",
            {"title": "食品饮料评价细则（2025）", "pass_line": "75.5"},
        )
    )
    assert (body["title"], body["pass_line"]) == ("食品饮料评价细则（2025）", 75.5)
    event = AuditEvent.objects.get(action="standards.ruleset.updated")
    assert (event.old["pass_line"], event.new["pass_line"]) == ("80.0", "75.5")
    assert_error(
        send(client, "patch", f"/rule-sets/{draft.uuid}", {"pass_line": None}),
        422,
        "validation_error",
        "pass_line",
    )
    assert_error(
        send(client, "patch", f"/rule-sets/{draft.uuid}", {"pass_line": 70.25}),
        422,
        "validation_error",
        "pass_line",
    )
    assert events("standards.ruleset.updated") == 1


def ok_json(response, status=200):
    assert response.status_code == status, response.content.decode()
    return response.json()


def test_a_second_draft_is_refused(province, as_user, draft):
    body = {"category": "201", "brand_type": "product", "title": "再来一个"}
    assert_error(send(as_user(province.office), "post", "/rule-sets", body), 422, "draft_exists")
    assert RuleSet.objects.count() == 1


def test_only_the_offices_writers_draft(province, as_user, draft):
    body = {"category": "202", "brand_type": "product", "title": "x"}
    for user in (province.office_viewer, province.alice, province.city_jinan, province.expert):
        assert_error(send(as_user(user), "post", "/rule-sets", body), 403, "permission_denied")
    path = f"/rule-sets/{draft.uuid}"
    viewer = as_user(province.office_viewer)
    assert_error(send(viewer, "patch", path, {"title": "改"}), 403, "permission_denied")
    assert_error(
        send(viewer, "post", f"{path}/veto-items", {"code": "F9", "text": "x"}), 403, "permission_denied"
    )
    assert_error(send(viewer, "delete", f"{path}/veto-items/F1"), 403, "permission_denied")
    assert_error(send(viewer, "post", f"{path}/actions/publish"), 403, "permission_denied")
    # Others cannot see the draft at all.
    assert_error(send(as_user(province.alice), "patch", path, {"title": "改"}), 404, "not_found")
    draft.refresh_from_db()
    assert draft.title == "食品饮料产品品牌评价细则" and draft.veto_items.count() == 4
    assert events("standards.ruleset.updated") == 0


def test_items_are_added_changed_and_removed_by_code(province, as_user, food):
    client = as_user(province.office)
    created = send(
        client, "post", "/rule-sets", {"category": "201", "brand_type": "product", "title": "细则"}
    ).json()
    path = f"/rule-sets/{created['uuid']}"
    assert (
        send(
            client, "post", f"{path}/indicators", {"code": "1", "name": "质量", "max_score": 100}
        ).status_code
        == 201
    )
    response = send(
        client, "post", f"{path}/indicators", {"code": "1.1", "name": "水平", "max_score": 50, "parent": "1"}
    )
    assert response.status_code == 201
    assert response.json()["problems"] == ["一级指标“质量”分值为 100，其二级指标合计 50，两者应相等。"]
    response = send(
        client, "patch", f"{path}/indicators/1.1", {"max_score": "100", "guidance": "第一行\n第二行"}
    )
    body = response.json()
    assert body["problems"] == [] and body["indicators"][0]["children"][0]["guidance"] == "第一行\n第二行"
    assert send(client, "post", f"{path}/veto-items", {"code": "F1", "text": "弄虚作假。"}).status_code == 201
    criterion = {
        "code": "Z1",
        "text": "营业收入不低于 2000 万元。",
        "metric": "revenue",
        "operator": "ge",
        "threshold": "2000",
    }
    assert send(client, "post", f"{path}/criteria", criterion).status_code == 201
    assert (
        send(client, "patch", f"{path}/criteria/Z1", {"threshold": 3000}).json()["criteria"][0]["threshold"]
        == 3000
    )
    assert send(client, "patch", f"{path}/veto-items/F1", {"text": "材料虚假。"}).status_code == 200
    assert send(client, "delete", f"{path}/veto-items/F1").status_code == 204
    assert send(client, "delete", f"{path}/criteria/Z1").status_code == 204
    assert_error(send(client, "delete", f"{path}/criteria/Z1"), 404, "not_found")
    assert (events("standards.ruleset.item_added"), events("standards.ruleset.item_updated")) == (4, 3)
    assert events("standards.ruleset.item_removed") == 2
    assert send(client, "delete", f"{path}/indicators/1").status_code == 204
    assert not Indicator.objects.filter(rule_set__uuid=created["uuid"]).exists()


@pytest.mark.parametrize(
    ("segment", "body", "field"),
    [
        ("indicators", {"code": "1", "name": "重复", "max_score": 10}, "__all__"),
        ("indicators", {"code": "9.1", "name": "无上级", "max_score": 10, "parent": "9"}, "parent"),
        ("indicators", {"code": "9.1", "name": "上级是二级", "max_score": 10, "parent": "1.1"}, "parent"),
        ("indicators", {"code": "9", "name": "零分", "max_score": 0}, "max_score"),
        ("indicators", {"code": "9 9", "name": "编号有空格", "max_score": 1}, "code"),
        ("veto-items", {"code": "F1", "text": "重复"}, "__all__"),
        ("criteria", {"code": "Z9", "text": "缺比较方式", "metric": "revenue"}, "operator"),
        ("criteria", {"code": "Z9", "text": "缺阈值", "metric": "revenue", "operator": "ge"}, "threshold"),
        ("criteria", {"code": "Z9", "text": "人工却有阈值", "threshold": 5}, "metric"),
        ("criteria", {"code": "Z9", "text": "未知指标", "metric": "profit"}, "metric"),
    ],
)
def test_bad_items_are_refused_and_change_nothing(province, as_user, draft, segment, body, field):
    before = (
        Indicator.objects.count(),
        draft.veto_items.count(),
        draft.criteria.count(),
        AuditEvent.objects.count(),
    )
    response = send(as_user(province.office), "post", f"/rule-sets/{draft.uuid}/{segment}", body)
    assert_error(response, 422, "validation_error", field)
    after = (
        Indicator.objects.count(),
        draft.veto_items.count(),
        draft.criteria.count(),
        AuditEvent.objects.count(),
    )
    assert after == before


def test_an_incomplete_draft_is_not_published(province, as_user, draft):
    leaf = Indicator.objects.get(rule_set=draft, code="1.1")
    services.ruleset_item_update(actor=province.office, item=leaf, max_score=5)
    response = send(as_user(province.office), "post", f"/rule-sets/{draft.uuid}/actions/publish")
    body = assert_error(response, 422, "ruleset_incomplete")
    assert any("质量" in p for p in body["details"]["problems"])
    draft.refresh_from_db()
    assert draft.status == "draft" and not events("standards.ruleset.published")


def test_publish_version_and_retire(province, as_user, draft):
    client = as_user(province.office)
    path = f"/rule-sets/{draft.uuid}"
    body = send(client, "post", f"{path}/actions/publish").json()
    assert body["status"] == "published" and body["published_at"]
    assert events("standards.ruleset.published") == 1
    assert_error(send(client, "patch", path, {"title": "改"}), 409, "ruleset_frozen")
    assert_error(
        send(client, "post", f"{path}/indicators", {"code": "7", "name": "新", "max_score": 1}),
        409,
        "ruleset_frozen",
    )
    assert_error(send(client, "delete", f"{path}/veto-items/F1"), 409, "ruleset_frozen")
    assert_error(send(client, "post", f"{path}/actions/publish"), 409, "ruleset_frozen")
    response = send(client, "post", f"{path}/versions")
    assert response.status_code == 201, response.content
    second = response.json()
    assert (second["version"], second["status"], second["based_on"]["uuid"]) == (2, "draft", str(draft.uuid))
    assert len(second["criteria"]) == 8 and events("standards.ruleset.versioned") == 1
    assert_error(send(client, "post", f"{path}/versions"), 409, "draft_exists")
    assert send(client, "post", f"{path}/actions/retire").json()["status"] == "retired"
    assert_error(send(client, "post", f"{path}/actions/retire"), 409, "conflict")
    assert_error(send(client, "post", f"/rule-sets/{second['uuid']}/actions/retire"), 409, "conflict")
    assert_error(send(client, "post", f"{path}/actions/delete"), 422, "unknown_action", "action")
    assert events("standards.ruleset.retired") == 1


def test_the_xlsx_round_trip(province, as_user, published):
    client = as_user(province.alice)
    download = client.get(f"{API}/rule-sets/{published.uuid}/xlsx")
    assert download.status_code == 200 and download["Content-Type"] == XLSX
    assert "filename*=UTF-8''" in download["Content-Disposition"]
    workbook = load_workbook(io.BytesIO(download.content))
    assert workbook.sheetnames == ["细则", "指标", "否决项", "资格条件"]
    office = as_user(province.office)
    draft = send(office, "post", f"/rule-sets/{published.uuid}/versions").json()
    workbook["否决项"].append(["F5", "新增的否决情形。"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    upload = io.BytesIO(buffer.getvalue())
    upload.name = "细则.xlsx"
    response = office.post(f"{API}/rule-sets/{draft['uuid']}/xlsx", {"file": upload})
    assert response.status_code == 200, response.content
    assert [v["code"] for v in response.json()["veto_items"]] == ["F1", "F2", "F3", "F4", "F5"]
    assert events("standards.ruleset.imported") == 1
    # A published rule set cannot be replaced, and nobody but the office imports.
    upload.seek(0)
    assert_error(
        office.post(f"{API}/rule-sets/{published.uuid}/xlsx", {"file": upload}), 409, "ruleset_frozen"
    )
    upload.seek(0)
    assert_error(
        as_user(province.office_viewer).post(f"{API}/rule-sets/{draft['uuid']}/xlsx", {"file": upload}),
        403,
        "permission_denied",
    )


def test_a_bad_workbook_is_refused_row_by_row_and_changes_nothing(province, as_user, draft):
    workbook = load_workbook(io.BytesIO(excel.export(draft)))
    workbook["指标"].append(["9.1", "8", "上级不存在", "abc", ""])
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    buffer.name = "bad.xlsx"
    client = as_user(province.office)
    body = assert_error(
        client.post(f"{API}/rule-sets/{draft.uuid}/xlsx", {"file": buffer}), 422, "ruleset_import_invalid"
    )
    columns = {(e["sheet"], e["column"]) for e in body["details"]["errors"]}
    assert {("指标", "分值"), ("指标", "上级编号")} <= columns
    not_excel = io.BytesIO(b"%PDF-1.4 not a workbook")
    not_excel.name = "rules.xlsx"
    assert_error(
        client.post(f"{API}/rule-sets/{draft.uuid}/xlsx", {"file": not_excel}),
        422,
        "validation_error",
        "file",
    )
    assert_error(client.post(f"{API}/rule-sets/{draft.uuid}/xlsx", {}), 422, "validation_error", "file")
    response = client.post(f"{API}/rule-sets/{draft.uuid}/xlsx", b"--x", content_type="multipart/form-data")
    assert_error(response, 400, "malformed_multipart")
    assert not events("standards.ruleset.imported") and draft.indicators.count() == 21


def test_the_rule_set_list_costs_the_same_whatever_the_page_size(province, as_user):
    for category in Category.objects.filter(level=2)[:12]:
        services.ruleset_create(
            actor=province.office, category=category, brand_type=province.product_type, title="x"
        )
    client = as_user(province.office)
    client.get(f"{API}/rule-sets")
    with CaptureQueriesContext(connection) as small:
        assert len(client.get(f"{API}/rule-sets", {"limit": 2}).json()["items"]) == 2
    with CaptureQueriesContext(connection) as large:
        assert len(client.get(f"{API}/rule-sets", {"limit": 12}).json()["items"]) == 12
    assert len(small) == len(large) <= 5
