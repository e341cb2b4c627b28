"""Organisations: the scoped list, the detail page, members, and public bodies created by the office."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from haopin.accounts import services
from haopin.accounts.models import Membership, Organisation, User
from haopin.core.models import AuditEvent
from haopin.registry.validation import make_uscc

LIST = "/accounts/organisations/"
PASSWORD = "Lao-Shan-Tea-88"


def detail(org):
    return reverse("accounts:organisation-detail", args=[org.uuid])


def names(response):
    return {row.obj.name for row in response.context["rows"]}


def test_url_names(province):
    assert reverse("accounts:organisation-list") == LIST
    assert detail(province.alice_org) == f"/accounts/organisations/{province.alice_org.uuid}/"


# --- the list -----------------------------------------------------------------------------------


def test_office_sees_every_organisation(as_user, province):
    response = as_user(province.office).get(LIST + "?size=50")
    assert response.status_code == 200
    assert names(response) == set(Organisation.objects.values_list("name", flat=True))


def test_city_bureau_sees_its_region_and_itself(as_user, province):
    response = as_user(province.city_jinan).get(LIST)
    assert names(response) == {
        "济南市市场监督管理局",
        "济南市历下区市场监督管理局",
        "泉城食品有限公司",
        "历城新材料有限公司",
    }


def test_county_bureau_sees_its_county(as_user, province):
    response = as_user(province.county_lixia).get(LIST)
    assert names(response) == {"济南市历下区市场监督管理局", "泉城食品有限公司"}


@pytest.mark.parametrize(
    ("who", "own"), [("alice", "alice_org"), ("alice_viewer", "alice_org"), ("dept_agri", "agri_org")]
)
def test_an_organisation_that_sees_only_itself_goes_to_its_page(as_user, province, who, own):
    response = as_user(getattr(province, who)).get(LIST)
    assert response.status_code == 302
    assert response["Location"] == detail(getattr(province, own))


@pytest.mark.parametrize("who", ["expert", "carol"])
def test_accounts_without_an_active_organisation_may_not_list(as_user, province, who):
    assert as_user(getattr(province, who)).get(LIST).status_code == 403


def test_filters_by_kind_status_and_city(as_user, province):
    client = as_user(province.office)
    assert names(client.get(LIST + "?kind=city_bureau")) == {"济南市市场监督管理局", "青岛市市场监督管理局"}
    assert names(client.get(LIST + "?status=pending")) == {"历城新材料有限公司"}
    assert names(client.get(LIST + "?city=370200")) == {"青岛市市场监督管理局", "崂山茶业有限公司"}
    assert names(client.get(LIST + "?kind=enterprise&city=370100")) == {
        "泉城食品有限公司",
        "历城新材料有限公司",
    }
    assert names(client.get(LIST + "?q=崂山")) == {"崂山茶业有限公司"}
    assert names(client.get(LIST + "?q=" + province.bob_org.uscc)) == {"崂山茶业有限公司"}


def test_city_filter_offers_only_the_bureaus_own_city(as_user, province):
    response = as_user(province.city_jinan).get(LIST)
    city = next(w for w in response.context["filter_widgets"] if w["name"] == "city")
    assert city["choices"] == [("370100", "济南市")]
    # A city outside the region is not applied (it is not among the choices) and leaks nothing.
    assert "崂山茶业有限公司" not in names(as_user(province.city_jinan).get(LIST + "?city=370200"))


def test_export_to_excel_has_the_filtered_rows(as_user, province):
    response = as_user(province.office).get(LIST + "?kind=enterprise&export=xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("单位名称", "单位类型", "状态")
    assert sorted(r[0] for r in rows[1:]) == sorted(
        ["崂山茶业有限公司", "历城新材料有限公司", "泉城食品有限公司"]
    )
    assert {r[3] for r in rows[1:]} == {"济南市历下区", "济南市历城区", "青岛市崂山区"}


def test_list_query_count_does_not_grow_with_the_page(as_user, province, django_assert_max_num_queries):
    client = as_user(province.office)
    with django_assert_max_num_queries(15) as few:
        client.get(LIST + "?size=20")
    for i in range(40):
        Organisation.objects.create(
            name=f"企业{i:02d}", kind="enterprise", region=province.laoshan, uscc=make_uscc("370212", 100 + i)
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(LIST + "?size=50")
    assert len(response.context["rows"]) == 49  # the nine of the province and forty more


def test_office_manager_gets_a_new_button_others_do_not(as_user, province):
    assert "新建单位" in as_user(province.office).get(LIST).content.decode()
    assert "新建单位" not in as_user(province.office_viewer).get(LIST).content.decode()
    assert "新建单位" not in as_user(province.city_jinan).get(LIST).content.decode()


# --- the detail page ----------------------------------------------------------------------------


def test_detail_shows_members_and_history(as_user, province):
    services.member_add(
        actor=province.alice,
        organisation=province.alice_org,
        username="alice-2",
        password=PASSWORD,
        role="staff",
        full_name="李二",
    )
    response = as_user(province.alice).get(detail(province.alice_org))
    assert response.status_code == 200
    html = response.content.decode()
    assert "泉城食品有限公司" in html
    assert {m.user.username for m in response.context["members"]} == {"alice", "alice-viewer", "alice-2"}
    actions = [e.action for e in response.context["history"]]
    assert "accounts.membership.created" in actions and "accounts.user.created" in actions
    assert "添加成员" in html  # alice is a manager


@pytest.mark.parametrize(
    ("who", "org", "status"),
    [
        ("alice", "bob_org", 404),
        ("bob", "alice_org", 404),
        ("alice_viewer", "bob_org", 404),
        ("city_qingdao", "alice_org", 404),
        ("county_lixia", "carol_org", 404),
        ("dept_agri", "alice_org", 404),
        ("expert", "alice_org", 404),
        ("city_jinan", "alice_org", 200),
        ("office", "bob_org", 200),
        ("admin", "bob_org", 200),
    ],
)
def test_who_may_see_an_organisation(as_user, province, who, org, status):
    assert as_user(getattr(province, who)).get(detail(getattr(province, org))).status_code == status


def test_unknown_uuid_is_not_found(as_user, province):
    assert (
        as_user(province.office)
        .get("/accounts/organisations/00000000-0000-0000-0000-000000000000/")
        .status_code
        == 404
    )


def test_read_only_member_and_bureau_see_no_member_forms(as_user, province):
    for user in (province.alice_viewer, province.city_jinan):
        html = as_user(user).get(detail(province.alice_org)).content.decode()
        assert "添加成员" not in html and "修改角色" not in html


# --- members ------------------------------------------------------------------------------------


def add_url(org):
    return reverse("accounts:member-add", args=[org.uuid])


def member_data(**overrides):
    data = {
        "username": "quancheng-li",
        "full_name": "李文",
        "role": "staff",
        "password": PASSWORD,
        "email": "li@example.cn",
        "phone": "13905310002",
    }
    data.update(overrides)
    return data


def test_manager_adds_a_member_who_can_then_sign_in(as_user, province, client):
    response = as_user(province.alice).post(add_url(province.alice_org), member_data())
    assert response.status_code == 302
    assert response["Location"] == detail(province.alice_org) + "#members"
    user = User.objects.get(username="quancheng-li")
    assert user.membership.organisation == province.alice_org
    assert user.membership.role == "staff"
    assert user.check_password(PASSWORD)
    events = AuditEvent.objects.order_by("seq")
    assert [e.action for e in events] == ["accounts.user.created", "accounts.membership.created"]
    assert all(e.actor_id == province.alice.pk for e in events)
    assert events[1].new == {"organisation": province.alice_org.pk, "role": "staff"}
    assert PASSWORD not in str(list(events.values_list("old", "new")))


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"username": "bob"}, "username", "已被使用"),
        ({"password": "12345678"}, "password", "不能全部为数字"),
        ({"password": "quancheng-li"}, "password", "太相似"),
        ({"role": "owner"}, "role", "选择一个有效的选项"),
        ({"full_name": ""}, "full_name", "请填写此项"),
        ({"phone": "110"}, "phone", "格式不正确"),
    ],
)
def test_bad_member_input_changes_nothing(as_user, province, counts, overrides, field, message):
    before = counts()
    response = as_user(province.alice).post(add_url(province.alice_org), member_data(**overrides))
    assert response.status_code == 200
    form = response.context["member_form"]
    assert message in " ".join(form.errors[field])
    assert counts() == before


@pytest.mark.parametrize(
    ("who", "status"), [("alice_viewer", 403), ("city_jinan", 403), ("office", 403), ("bob", 404)]
)
def test_only_the_organisations_managers_add_members(as_user, province, counts, who, status):
    before = counts()
    response = as_user(getattr(province, who)).post(add_url(province.alice_org), member_data())
    assert response.status_code == status
    assert counts() == before


def test_platform_admin_may_add_members_anywhere(as_user, province):
    response = as_user(province.admin).post(add_url(province.qingdao_org), member_data(role="manager"))
    assert response.status_code == 302
    assert User.objects.get(username="quancheng-li").membership.organisation == province.qingdao_org


def test_inline_check_of_a_new_member(as_user, province):
    response = as_user(province.alice).post(
        add_url(province.alice_org),
        member_data(username="bob"),
        HTTP_HX_REQUEST="true",
        HTTP_HX_TRIGGER_NAME="username",
    )
    assert response.status_code == 200
    assert "已被使用" in response.content.decode()
    assert not User.objects.filter(username="bob", membership__organisation=province.alice_org).exists()


def update_url(org, membership):
    return reverse("accounts:member-update", args=[org.uuid, membership.pk])


def test_manager_changes_a_role(as_user, province):
    viewer = province.alice_viewer.membership
    response = as_user(province.alice).post(update_url(province.alice_org, viewer), {"role": "staff"})
    assert response.status_code == 302
    viewer.refresh_from_db()
    assert viewer.role == "staff"
    event = AuditEvent.objects.get(action="accounts.membership.updated")
    assert (event.old, event.new) == ({"role": "readonly"}, {"role": "staff"})


def test_manager_deactivates_and_reactivates_a_member(as_user, province):
    from haopin.core.policies import ScopeKind, scope_of

    viewer = province.alice_viewer.membership
    client = as_user(province.alice)
    client.post(update_url(province.alice_org, viewer), {"active": "0"})
    viewer.refresh_from_db()
    assert viewer.active is False
    fresh = User.objects.get(pk=province.alice_viewer.pk)
    assert scope_of(fresh).kind == ScopeKind.NONE
    client.post(update_url(province.alice_org, viewer), {"active": "1"})
    viewer.refresh_from_db()
    assert viewer.active is True
    assert AuditEvent.objects.filter(action="accounts.membership.updated").count() == 2


def test_manager_cannot_demote_themselves(as_user, province):
    own = province.alice.membership
    response = as_user(province.alice).post(
        update_url(province.alice_org, own), {"role": "readonly"}, follow=True
    )
    assert "不能降低或停用自己的管理员权限" in response.content.decode()
    own.refresh_from_db()
    assert own.role == "manager"
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize(("who", "status"), [("alice_viewer", 403), ("city_jinan", 403), ("bob", 404)])
def test_others_cannot_change_members(as_user, province, who, status):
    viewer = province.alice_viewer.membership
    response = as_user(getattr(province, who)).post(
        update_url(province.alice_org, viewer), {"role": "manager"}
    )
    assert response.status_code == status
    viewer.refresh_from_db()
    assert viewer.role == "readonly"


def test_membership_of_another_organisation_is_not_found_through_this_one(as_user, province):
    response = as_user(province.alice).post(
        update_url(province.alice_org, province.bob.membership), {"role": "readonly"}
    )
    assert response.status_code == 404
    assert Membership.objects.get(user=province.bob).role == "manager"


def test_member_update_needs_post(as_user, province):
    viewer = province.alice_viewer.membership
    assert as_user(province.alice).get(update_url(province.alice_org, viewer)).status_code == 405


# --- public bodies, created by the office -------------------------------------------------------

CREATE = "/accounts/organisations/new/"


def test_office_creates_a_department_with_what_it_manages(as_user, province):
    response = as_user(province.office).post(
        CREATE,
        {
            "name": "山东省文化和旅游厅",
            "short_name": "文旅厅",
            "kind": "department",
            "region": "370000",
            "managed_categories": [province.cat_trade.pk],
            "managed_programmes": [province.prog_chtb.pk],
        },
    )
    org = Organisation.objects.get(name="山东省文化和旅游厅")
    assert response.status_code == 302 and response["Location"] == detail(org)
    assert list(org.managed_categories.all()) == [province.cat_trade]
    event = AuditEvent.objects.get(action="accounts.organisation.created")
    assert event.actor_id == province.office.pk
    assert event.new["kind"] == "department" and event.new["managed_categories"] == [province.cat_trade.pk]


def test_office_creates_a_county_bureau(as_user, province):
    response = as_user(province.office).post(
        CREATE, {"name": "青岛市崂山区市场监督管理局", "kind": "county_bureau", "region": "370212"}
    )
    assert response.status_code == 302
    assert Organisation.objects.get(name="青岛市崂山区市场监督管理局").region == province.laoshan


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": "某市局", "kind": "city_bureau", "region": "370102"}, "region"),
        ({"name": "某县局", "kind": "county_bureau", "region": "370100"}, "region"),
        ({"name": "某企业", "kind": "enterprise", "region": "370102"}, "kind"),
        ({"name": "某检测所", "kind": "lab", "region": "370102", "uscc": "123"}, "uscc"),
        ({"name": "", "kind": "lab", "region": "370102"}, "name"),
        (
            {
                "name": "某评价机构",
                "kind": "evaluation_body",
                "region": "370102",
                "managed_categories": ["1"],
            },
            "managed_categories",
        ),
    ],
)
def test_bad_organisation_input_changes_nothing(as_user, province, counts, data, field):
    before = counts()
    response = as_user(province.office).post(CREATE, data)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert counts() == before


@pytest.mark.parametrize("who", ["office_viewer", "city_jinan", "alice", "dept_agri", "expert"])
def test_only_office_managers_create_organisations(as_user, province, counts, who):
    client = as_user(getattr(province, who))
    assert client.get(CREATE).status_code == 403
    before = counts()
    assert client.post(CREATE, {"name": "某局", "kind": "lab", "region": "370102"}).status_code == 403
    assert counts() == before


def test_office_is_offered_only_public_body_kinds(as_user, province):
    kinds = {
        value for value, _ in as_user(province.office).get(CREATE).context["form"].fields["kind"].choices
    }
    assert "enterprise" not in kinds and "brand_owner" not in kinds
    assert {"department", "city_bureau", "county_bureau", "lab", "evaluation_body"} <= kinds
