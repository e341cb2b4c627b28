"""The expert pool (专家库): office only; an expert sees their own profile and nothing else."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from haopin.accounts import services
from haopin.accounts.models import ExpertProfile, User
from haopin.core.errors import PermissionDeniedError
from haopin.core.models import AuditEvent, Category
from haopin.registry.validation import make_uscc

LIST = "/accounts/experts/"
PASSWORD = "Tai-Shan-Peak-1545"


def detail(profile):
    return reverse("accounts:expert-detail", args=[profile.pk])


def make_expert(
    province, username, *, specialities, region=None, title="senior", active=True, employer="山东大学"
):
    profile = services.expert_create(
        actor=province.office,
        username=username,
        password=PASSWORD,
        full_name=username,
        employer=employer,
        region=region or province.jinan,
        specialities=specialities,
        title=title,
    )
    if not active:
        services.expert_update(actor=province.office, profile=profile, active=False)
    return profile


def usernames(response):
    return {row.obj.user.username for row in response.context["rows"]}


def test_url_names(province):
    assert reverse("accounts:expert-list") == LIST
    assert detail(province.expert.expert_profile) == f"/accounts/experts/{province.expert.expert_profile.pk}/"


def test_office_lists_the_pool(as_user, province):
    make_expert(province, "tea-expert", specialities=[province.cat_tea], region=province.qingdao)
    response = as_user(province.office).get(LIST)
    assert response.status_code == 200
    assert usernames(response) == {"expert", "tea-expert"}
    assert "专家入库" in response.content.decode()


def test_read_only_office_member_lists_but_may_not_add(as_user, province):
    response = as_user(province.office_viewer).get(LIST)
    assert response.status_code == 200
    assert "专家入库" not in response.content.decode()


def test_speciality_filter_matches_the_subtree_and_the_ancestors(as_user, province):
    food = Category.objects.get(code="201")  # 食品饮料, the parent of 加工食品 (the persona's speciality)
    make_expert(province, "food-generalist", specialities=[food])
    make_expert(province, "tea-expert", specialities=[province.cat_tea])
    client = as_user(province.office)
    # Experts on 食品饮料 as a whole, and on 加工食品 within it.
    assert usernames(client.get(LIST + "?speciality=201")) == {"expert", "food-generalist"}
    assert usernames(client.get(LIST + "?speciality=2")) == {"expert", "food-generalist"}
    assert usernames(client.get(LIST + "?speciality=105")) == {"tea-expert"}
    assert usernames(client.get(LIST + "?speciality=101")) == set()


def test_other_filters(as_user, province):
    make_expert(
        province, "qd-associate", specialities=[province.cat_tea], region=province.laoshan, title="associate"
    )
    make_expert(province, "retired", specialities=[province.cat_food], active=False)
    client = as_user(province.office)
    assert usernames(client.get(LIST + "?city=370200")) == {"qd-associate"}
    assert usernames(client.get(LIST + "?title=associate")) == {"qd-associate"}
    assert usernames(client.get(LIST + "?active=False")) == {"retired"}
    assert usernames(client.get(LIST + "?active=True")) == {"expert", "qd-associate"}
    assert usernames(client.get(LIST + "?q=qd-")) == {"qd-associate"}


def test_export_lists_specialities(as_user, province):
    response = as_user(province.office).get(LIST + "?export=xlsx")
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "姓名" and "专业领域" in rows[0]
    assert rows[1][rows[0].index("专业领域")] == "加工食品"


def test_list_query_count_does_not_grow_with_the_page(as_user, province, django_assert_max_num_queries):
    client = as_user(province.office)
    with django_assert_max_num_queries(15) as few:
        client.get(LIST + "?size=20")
    for i in range(25):
        make_expert(province, f"pool-{i:02d}", specialities=[province.cat_tea, province.cat_food])
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(LIST + "?size=50")
    assert len(response.context["rows"]) == 26


def test_expert_is_sent_to_their_own_profile(as_user, province):
    response = as_user(province.expert).get(LIST)
    assert response.status_code == 302
    assert response["Location"] == detail(province.expert.expert_profile)


@pytest.mark.parametrize("who", ["alice", "city_jinan", "dept_agri", "carol"])
def test_others_may_not_see_the_pool(as_user, province, who):
    assert as_user(getattr(province, who)).get(LIST).status_code == 403


def test_expert_sees_only_their_own_profile(as_user, province):
    other = make_expert(province, "tea-expert", specialities=[province.cat_tea])
    client = as_user(province.expert)
    own = client.get(detail(province.expert.expert_profile))
    assert own.status_code == 200
    assert "山东大学" in own.content.decode()
    assert "修改" not in own.content.decode()
    assert client.get(detail(other)).status_code == 404
    assert (
        client.get(reverse("accounts:expert-edit", args=[province.expert.expert_profile.pk])).status_code
        == 403
    )


@pytest.mark.parametrize("who", ["alice", "city_jinan", "dept_agri"])
def test_expert_profiles_are_invisible_to_others(as_user, province, who):
    assert as_user(getattr(province, who)).get(detail(province.expert.expert_profile)).status_code == 404


# --- create and edit --------------------------------------------------------------------------

CREATE = "/accounts/experts/new/"


def expert_data(province, **overrides):
    data = {
        "username": "zhang-prof",
        "full_name": "张教授",
        "password": PASSWORD,
        "email": "zhang@example.edu.cn",
        "phone": "13705310003",
        "employer": "齐鲁工业大学",
        "employer_uscc": make_uscc("370100", 42, authority="1", kind="2"),
        "region": "370100",
        "title": "senior",
        "specialities": [province.cat_food.pk, province.cat_tea.pk],
    }
    data.update(overrides)
    return data


def test_office_adds_an_expert(as_user, province):
    response = as_user(province.office).post(CREATE, expert_data(province))
    profile = ExpertProfile.objects.get(user__username="zhang-prof")
    assert response.status_code == 302 and response["Location"] == detail(profile)
    assert set(profile.specialities.all()) == {province.cat_food, province.cat_tea}
    assert profile.employer_uscc == make_uscc("370100", 42, authority="1", kind="2")
    assert profile.user.check_password(PASSWORD)
    event = AuditEvent.objects.get(action="accounts.expert.created")
    assert event.actor_id == province.office.pk
    assert sorted(event.new["specialities"]) == sorted([province.cat_food.pk, province.cat_tea.pk])
    assert AuditEvent.objects.filter(action="accounts.user.created", target_id=str(profile.user_id)).exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"specialities": []}, "specialities"),
        ({"employer_uscc": "913701000000000420"}, "employer_uscc"),
        ({"username": "alice"}, "username"),
        ({"password": "12345678"}, "password"),
        ({"region": "110000"}, "region"),
        ({"employer": ""}, "employer"),
    ],
)
def test_bad_expert_input_changes_nothing(as_user, province, counts, overrides, field):
    before = counts()
    response = as_user(province.office).post(CREATE, expert_data(province, **overrides))
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert counts() == before


@pytest.mark.parametrize("who", ["office_viewer", "alice", "city_jinan", "expert"])
def test_only_the_office_adds_experts(as_user, province, counts, who):
    client = as_user(getattr(province, who))
    assert client.get(CREATE).status_code == 403
    before = counts()
    assert client.post(CREATE, expert_data(province)).status_code == 403
    assert counts() == before


def test_office_edits_an_expert(as_user, province):
    profile = province.expert.expert_profile
    url = reverse("accounts:expert-edit", args=[profile.pk])
    client = as_user(province.office)
    form = client.get(url)
    assert form.status_code == 200
    assert 'value="山东大学"' in form.content.decode()
    response = client.post(
        url,
        {
            "employer": "山东大学",
            "employer_uscc": "",
            "region": "370100",
            "title": "associate",
            "specialities": [province.cat_tea.pk],
            "note": "",
        },
    )
    assert response.status_code == 302
    profile.refresh_from_db()
    assert profile.title == "associate" and profile.active is False  # the box was not ticked
    assert list(profile.specialities.all()) == [province.cat_tea]
    event = AuditEvent.objects.get(action="accounts.expert.updated")
    assert event.old["title"] == "senior" and event.new["title"] == "associate"
    assert event.old["specialities"] == [province.cat_food.pk] and event.new["specialities"] == [
        province.cat_tea.pk
    ]
    assert event.new["active"] is False


def test_service_refuses_experts_outside_the_office(province):
    with pytest.raises(PermissionDeniedError):
        services.expert_update(actor=province.expert, profile=province.expert.expert_profile, title="other")
    with pytest.raises(PermissionDeniedError):
        services.expert_create(
            actor=province.city_jinan,
            username="x",
            password=PASSWORD,
            full_name="x",
            employer="x",
            region=province.jinan,
            specialities=[province.cat_tea],
        )
    assert not User.objects.filter(username="x").exists()
