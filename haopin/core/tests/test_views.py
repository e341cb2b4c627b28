"""The workspace home page, the navigation and the audit log pages."""

from __future__ import annotations

import datetime as dt
import io
import zoneinfo

import pytest
import time_machine
from django.urls import reverse
from openpyxl import load_workbook

from haopin.accounts import services as account_services
from haopin.core import workspace
from haopin.core.models import AuditEvent, Tier
from haopin.core.services import reference_save, reference_snapshot
from haopin.registry import services as registry_services

HOME = "/workspace/"
AUDIT = "/workspace/audit/"
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def nav_labels(user):
    return {item["label"] for section in workspace.navigation(user) for item in section["items"]}


# --- home ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("office", "全省品牌工作"),
        ("city_jinan", "济南市的企业注册审核"),
        ("dept_agri", "本部门主管类别"),
        ("alice", "登记本单位的品牌和产品"),
        ("admin", "平台管理员"),
    ],
)
def test_home_greets_each_role_with_what_it_is_for(as_user, province, who, expected):
    response = as_user(getattr(province, who)).get(HOME)
    assert response.status_code == 200
    html = response.content.decode()
    assert expected in html
    assert "待办事项" in html
    assert str(getattr(province, who)) in html


def test_home_names_the_users_organisation_and_role(as_user, province):
    html = as_user(province.alice_viewer).get(HOME).content.decode()
    assert "泉城食品有限公司 · 只读" in html


def test_home_shows_the_reviewers_todo_and_figures(as_user, province):
    response = as_user(province.office).get(HOME)
    todo = {item.label: item.count for item in response.context["todo"]}
    assert todo["待审核的企业注册"] == 1
    stats = dict(response.context["stats"])
    assert stats["已启用单位"] == 8
    assert stats["在库专家"] == 1


def test_city_bureau_sees_figures_of_its_region(as_user, province):
    stats = dict(as_user(province.city_jinan).get(HOME).context["stats"])
    assert stats["辖区内已启用单位"] == 3  # the bureau, the county bureau and alice's company
    assert "在库专家" not in stats


def test_expert_sees_their_profile_and_a_note_about_assignments(as_user, province):
    html = as_user(province.expert).get(HOME).content.decode()
    assert "我的专家信息" in html
    assert "山东大学" in html and "加工食品" in html
    assert "评审任务" in html and "/workspace/evaluation/assignments/" in html
    assert "尚未分配单位" not in html


def test_pending_enterprise_is_told_to_wait(as_user, province):
    html = as_user(province.carol).get(HOME).content.decode()
    assert "等待所在地市场监管部门审核" in html


def test_account_without_organisation_is_told_whom_to_ask(as_user, province):
    from haopin.accounts.models import User

    html = as_user(User.objects.create(username="drifter")).get(HOME).content.decode()
    assert "尚未分配单位或已停用" in html


def test_deactivated_member_is_told(as_user, province):
    account_services.membership_update(
        actor=province.alice, membership=province.alice_viewer.membership, active=False
    )
    html = as_user(province.alice_viewer).get(HOME).content.decode()
    assert "账号已被停用" in html


def test_home_needs_login(client, province):
    response = client.get(HOME)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


# --- navigation --------------------------------------------------------------------------------


def test_navigation_follows_the_role(province):
    assert {"首页", "单位", "注册审核", "专家库", "审计日志", "API 令牌"} <= nav_labels(province.office)
    assert {"首页", "单位", "注册审核", "专家库", "审计日志", "API 令牌"} <= nav_labels(province.admin)
    office_viewer = nav_labels(province.office_viewer)
    assert "专家库" in office_viewer and "审计日志" in office_viewer and "注册审核" not in office_viewer
    city = nav_labels(province.city_jinan)
    assert {"单位", "注册审核", "API 令牌"} <= city and not {"专家库", "审计日志"} & city
    alice = nav_labels(province.alice)
    assert {"单位", "API 令牌"} <= alice and not {"注册审核", "专家库", "审计日志"} & alice
    expert = nav_labels(province.expert)
    assert "API 令牌" in expert and not {"单位", "注册审核", "专家库", "审计日志"} & expert


def test_navigation_groups_are_named(province):
    groups = {section["group"] for section in workspace.navigation(province.office)}
    assert {"工作台", "单位与专家", "系统"} <= groups


def test_accounts_pages_show_the_navigation(as_user, province):
    html = as_user(province.office).get("/accounts/organisations/").content.decode()
    assert "单位与专家" in html and 'aria-current="page">单位<' in html


# --- the audit log -----------------------------------------------------------------------------


def _events(province):
    account_services.organisation_update(
        actor=province.office, organisation=province.office_org, short_name="强省办"
    )
    registry_services.enterprise_update(
        actor=province.alice, enterprise=province.alice_ent, address="泉城路 1 号"
    )
    account_services.token_create(actor=province.bob, name="崂山对接")


def rows(response):
    return [row.obj for row in response.context["rows"]]


@pytest.mark.parametrize("who", ["office", "office_viewer", "admin"])
def test_office_and_admins_read_the_log(as_user, province, who):
    _events(province)
    response = as_user(getattr(province, who)).get(AUDIT)
    assert response.status_code == 200
    assert [e.seq for e in rows(response)] == [3, 2, 1]


@pytest.mark.parametrize("who", ["city_jinan", "alice", "dept_agri", "expert", "carol"])
def test_others_may_not_read_the_log(as_user, province, who):
    client = as_user(getattr(province, who))
    assert client.get(AUDIT).status_code == 403
    _events(province)
    assert client.get(reverse("workspace:audit-event", args=[1])).status_code == 403
    assert client.get(reverse("workspace:audit-target", args=[1])).status_code == 403


def test_filter_by_action_actor_and_target_type(as_user, province):
    _events(province)
    client = as_user(province.office)
    assert [e.action for e in rows(client.get(AUDIT + "?action=accounts.token.created"))] == [
        "accounts.token.created"
    ]
    assert [e.actor_id for e in rows(client.get(AUDIT + "?actor=alice"))] == [province.alice.pk]
    assert [e.target_type for e in rows(client.get(AUDIT + "?target_type=accounts.organisation"))] == [
        "accounts.organisation"
    ]
    # An unknown target type is ignored rather than trusted.
    assert len(rows(client.get(AUDIT + "?target_type=auth.permission"))) == 3
    assert [e.seq for e in rows(client.get(AUDIT + "?q=泉城"))] == [2]


def test_filter_by_local_date_range(as_user, province):
    # 23:30 in Shanghai on 1 May is 15:30 UTC: it belongs to 1 May, not to 2 May.
    with time_machine.travel(dt.datetime(2025, 5, 1, 23, 30, tzinfo=SHANGHAI), tick=False):
        account_services.token_create(actor=province.alice, name="五一")
    with time_machine.travel(dt.datetime(2025, 5, 2, 0, 30, tzinfo=SHANGHAI), tick=False):
        account_services.token_create(actor=province.alice, name="五二")
    with time_machine.travel(dt.datetime(2025, 5, 13, 9, 0, tzinfo=SHANGHAI), tick=False):
        account_services.token_create(actor=province.alice, name="五一三")
    client = as_user(province.office)

    def labels(query):
        return [e.new["name"] for e in rows(client.get(AUDIT + query))]

    assert labels("?since=2025-05-01&until=2025-05-01") == ["五一"]
    assert labels("?since=2025-05-02") == ["五一三", "五二"]
    assert labels("?until=2025-05-02") == ["五二", "五一"]
    assert labels("?since=not-a-date") == ["五一三", "五二", "五一"]
    response = client.get(AUDIT + "?since=2025-05-02")
    assert 'value="2025-05-02"' in response.content.decode()


def test_each_event_links_to_its_page_and_to_its_object(as_user, province):
    _events(province)
    response = as_user(province.office).get(AUDIT)
    html = response.content.decode()
    assert 'href="/workspace/audit/1/"' in html
    assert 'href="/workspace/audit/1/target/"' in html  # the organisation
    token_row = next(r for r in response.context["rows"] if r.obj.action == "accounts.token.created")
    assert not any(cell.url.endswith("/target/") for cell in token_row.cells)  # tokens have no page


def test_target_link_opens_the_object(as_user, province):
    _events(province)
    client = as_user(province.office)
    response = client.get(reverse("workspace:audit-target", args=[1]))
    assert response.status_code == 302
    assert response["Location"] == province.office_org.get_absolute_url()


def test_membership_and_user_events_open_the_organisation(as_user, province):
    account_services.member_add(
        actor=province.alice,
        organisation=province.alice_org,
        username="li-new",
        password="Quan-Cheng-77!",
        role="staff",
    )
    client = as_user(province.office)
    for seq in (1, 2):  # the user, then the membership
        response = client.get(reverse("workspace:audit-target", args=[seq]))
        assert response["Location"] == province.alice_org.get_absolute_url()


def test_reference_event_opens_the_admin_for_admins_only(as_user, province):
    tier = Tier.objects.get(code="pool")
    original = reference_snapshot(tier)
    tier.name = "培育库（改）"
    reference_save(actor=province.admin, obj=tier, original=original)
    admin_response = as_user(province.admin).get(reverse("workspace:audit-target", args=[1]))
    assert admin_response["Location"] == reverse("admin:core_tier_change", args=[tier.pk])
    office_response = as_user(province.office).get(reverse("workspace:audit-target", args=[1]))
    assert office_response.status_code == 404


def test_event_of_a_deleted_object_says_so(as_user, province):
    tier = Tier.objects.create(code="trial", name="试点", rank=9)
    from haopin.core.services import reference_delete

    reference_delete(actor=province.admin, obj=tier)
    client = as_user(province.admin)
    response = client.get(reverse("workspace:audit-target", args=[1]))
    assert response.status_code == 404
    assert "已不存在" in response.content.decode()
    assert "已不存在" in client.get(reverse("workspace:audit-event", args=[1])).content.decode()


def test_event_page_shows_old_and_new_values(as_user, province):
    _events(province)
    response = as_user(province.office).get(reverse("workspace:audit-event", args=[1]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "修改单位" in html
    assert "short_name" in html and "强省办" in html
    assert AuditEvent.objects.get(seq=1).hash in html
    assert 'href="/workspace/audit/2/"' in html  # the next event


def test_unknown_event_is_not_found(as_user, province):
    assert as_user(province.office).get(reverse("workspace:audit-event", args=[99])).status_code == 404


def test_log_exports_the_filtered_events(as_user, province):
    _events(province)
    response = as_user(province.office).get(AUDIT + "?actor=office&export=xlsx")
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True).active
    table = list(sheet.iter_rows(values_only=True))
    assert table[0][:3] == ("序号", "时间", "操作")
    assert [r[0] for r in table[1:]] == [1]
    assert table[1][2] == "修改单位"


def test_log_query_count_does_not_grow_with_the_page(as_user, province, django_assert_max_num_queries):
    client = as_user(province.office)
    _events(province)
    with django_assert_max_num_queries(10) as few:
        client.get(AUDIT + "?size=20")
    for i in range(60):
        account_services.token_create(actor=province.alice, name=f"批量{i}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(AUDIT + "?size=100")
    assert len(response.context["rows"]) == 63


def test_htmx_filtering_returns_the_table_only(as_user, province):
    _events(province)
    response = as_user(province.office).get(AUDIT + "?action=accounts.token.created", HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="table">')
    assert "<form" not in html
