"""Review of self-registrations by the city bureau of the region (or the office)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.urls import reverse

from haopin.accounts import services
from haopin.accounts.models import Organisation
from haopin.core.errors import ConflictError, PermissionDeniedError, ValidationFailed
from haopin.core.models import AuditEvent
from haopin.core.policies import ScopeKind, scope_of
from haopin.registry.validation import make_uscc

LIST = "/accounts/registrations/"


def detail_url(org):
    return reverse("accounts:registration-detail", args=[org.uuid])


_serial = iter(range(5000, 9000))


def pending(province, n, region=None, name="待审企业"):
    region = region or province.licheng
    return [
        Organisation.objects.create(
            name=f"{name}{i}",
            kind=Organisation.Kind.ENTERPRISE,
            region=region,
            uscc=make_uscc(region.code, next(_serial)),
            status=Organisation.Status.PENDING,
        )
        for i in range(n)
    ]


def test_url_names():
    assert reverse("accounts:registration-list") == LIST


@pytest.mark.parametrize("who", ["city_jinan", "office"])
def test_reviewers_see_pending_registrations_of_their_region(as_user, province, who):
    response = as_user(getattr(province, who)).get(LIST)
    assert response.status_code == 200
    names = [row.obj.name for row in response.context["rows"]]
    assert names == ["历城新材料有限公司"]


def test_another_city_sees_none_of_them(as_user, province):
    pending(province, 1, region=province.laoshan, name="崂山待审")
    response = as_user(province.city_qingdao).get(LIST)
    assert [row.obj.name for row in response.context["rows"]] == ["崂山待审0"]


def test_county_bureau_sees_only_its_county(as_user, province):
    pending(province, 1, region=province.lixia, name="历下待审")
    response = as_user(province.county_lixia).get(LIST)
    assert [row.obj.name for row in response.context["rows"]] == ["历下待审0"]


@pytest.mark.parametrize("who", ["office_viewer", "alice", "dept_agri", "expert", "carol"])
def test_others_may_not_open_the_review_list(as_user, province, who):
    assert as_user(getattr(province, who)).get(LIST).status_code == 403


def test_anonymous_is_sent_to_login(client, province):
    response = client.get(LIST)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_list_query_count_does_not_grow_with_the_page(as_user, province, django_assert_max_num_queries):
    client = as_user(province.city_jinan)
    pending(province, 3)
    with django_assert_max_num_queries(12) as few:
        client.get(LIST + "?size=20")
    pending(province, 30, name="又一家")
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(LIST + "?size=50")
    assert len(response.context["rows"]) == 34


def test_list_exports_to_excel(as_user, province):
    response = as_user(province.city_jinan).get(LIST + "?export=xlsx")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")


# --- the detail page and the decision ---------------------------------------------------------


def test_detail_shows_what_the_reviewer_needs(as_user, province):
    response = as_user(province.city_jinan).get(detail_url(province.carol_org))
    assert response.status_code == 200
    html = response.content.decode()
    assert province.carol_org.uscc in html
    assert "登记机关所在地：济南市历城区" in html
    assert "审核通过" in html and "不予通过" in html
    assert "carol" in html  # the account that registered


@pytest.mark.parametrize("who", ["city_qingdao", "county_lixia", "alice", "bob", "expert", "dept_agri"])
def test_registration_outside_ones_view_is_not_found(as_user, province, who):
    client = as_user(getattr(province, who))
    assert client.get(detail_url(province.carol_org)).status_code == 404
    response = client.post(detail_url(province.carol_org), {"decision": "approve"})
    assert response.status_code == 404
    province.carol_org.refresh_from_db()
    assert province.carol_org.status == Organisation.Status.PENDING


def test_read_only_office_member_sees_but_cannot_decide(as_user, province):
    client = as_user(province.office_viewer)
    page = client.get(detail_url(province.carol_org))
    assert page.status_code == 200
    assert "审核通过" not in page.content.decode()
    response = client.post(detail_url(province.carol_org), {"decision": "approve"})
    assert response.status_code == 403
    province.carol_org.refresh_from_db()
    assert province.carol_org.status == Organisation.Status.PENDING
    assert not AuditEvent.objects.exists()


def test_city_bureau_approves_and_the_enterprise_can_work(as_user, province):
    assert scope_of(province.carol).kind == ScopeKind.NONE
    response = as_user(province.city_jinan).post(
        detail_url(province.carol_org), {"decision": "approve", "note": "信息核实无误"}, follow=True
    )
    assert response.redirect_chain[-1][0] == LIST
    assert "注册已通过" in response.content.decode()
    org = Organisation.objects.get(pk=province.carol_org.pk)
    assert org.status == Organisation.Status.ACTIVE
    assert org.review_note == "信息核实无误" and org.reviewed_at is not None
    event = AuditEvent.objects.get(action="accounts.organisation.approved")
    assert event.actor_id == province.city_jinan.pk
    assert event.organisation_id == province.jinan_org.pk
    assert event.old == {"status": "pending"}
    assert event.new == {"status": "active", "note": "信息核实无误"}
    province.carol._haopin_scope = None
    assert scope_of(province.carol).kind == ScopeKind.ORGANISATION


def test_reject_needs_a_reason(as_user, province):
    client = as_user(province.city_jinan)
    response = client.post(detail_url(province.carol_org), {"decision": "reject", "note": "  "})
    assert response.status_code == 200
    assert "不予通过时请填写原因" in response.content.decode()
    province.carol_org.refresh_from_db()
    assert province.carol_org.status == Organisation.Status.PENDING
    assert not AuditEvent.objects.exists()

    client.post(detail_url(province.carol_org), {"decision": "reject", "note": "信用代码与名称不符"})
    province.carol_org.refresh_from_db()
    assert province.carol_org.status == Organisation.Status.REJECTED
    assert province.carol_org.review_note == "信用代码与名称不符"
    event = AuditEvent.objects.get(action="accounts.organisation.rejected")
    assert event.new == {"status": "rejected", "note": "信用代码与名称不符"}


def test_rejected_enterprise_reads_the_reason_on_its_home_page(as_user, province):
    services.organisation_review(
        actor=province.city_jinan, organisation=province.carol_org, approve=False, note="名称与执照不符"
    )
    html = as_user(province.carol).get(reverse("workspace:home")).content.decode()
    assert "未通过审核：名称与执照不符" in html


def test_bad_decision_value_changes_nothing(as_user, province):
    response = as_user(province.city_jinan).post(detail_url(province.carol_org), {"decision": "maybe"})
    assert response.status_code == 200
    province.carol_org.refresh_from_db()
    assert province.carol_org.status == Organisation.Status.PENDING


def test_second_reviewer_is_told_it_was_already_decided(client, province):
    """Two reviewers open the same registration; the office approves first, then the city
    bureau submits its (now stale) rejection: it is refused with a clear message."""
    client.force_login(province.city_jinan)
    assert "审核通过" in client.get(detail_url(province.carol_org)).content.decode()
    services.organisation_review(actor=province.office, organisation=province.carol_org, approve=True)

    response = client.post(
        detail_url(province.carol_org), {"decision": "reject", "note": "资料不全"}, follow=True
    )
    html = response.content.decode()
    assert "该注册已处理（当前状态：已启用）" in html
    assert "其他审核人" in html
    assert "审核结果" in html and "office" in html  # who decided, shown instead of the buttons
    province.carol_org.refresh_from_db()
    assert province.carol_org.status == Organisation.Status.ACTIVE
    assert province.carol_org.review_note == ""
    assert list(AuditEvent.objects.values_list("action", flat=True)) == ["accounts.organisation.approved"]


# --- the service's rules ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "who", ["city_qingdao", "county_lixia", "alice", "office_viewer", "dept_agri", "expert"]
)
def test_service_refuses_reviewers_without_the_right(province, who):
    with pytest.raises(PermissionDeniedError):
        services.organisation_review(
            actor=getattr(province, who), organisation=province.carol_org, approve=True
        )
    province.carol_org.refresh_from_db()
    assert province.carol_org.status == Organisation.Status.PENDING


def test_city_qingdao_cannot_approve_a_jinan_registration(province):
    with pytest.raises(PermissionDeniedError):
        services.organisation_review(
            actor=province.city_qingdao, organisation=province.carol_org, approve=True
        )
    assert not AuditEvent.objects.exists()


def test_service_refuses_a_second_review(province):
    services.organisation_review(actor=province.city_jinan, organisation=province.carol_org, approve=True)
    with pytest.raises(ConflictError):
        services.organisation_review(
            actor=province.office, organisation=province.carol_org, approve=False, note="重复"
        )
    assert AuditEvent.objects.filter(target_id=str(province.carol_org.pk)).count() == 1


def test_service_requires_a_reason_to_reject(province):
    with pytest.raises(ValidationFailed) as raised:
        services.organisation_review(
            actor=province.city_jinan, organisation=province.carol_org, approve=False
        )
    assert "note" in raised.value.details


def test_public_bodies_are_not_reviewed(province):
    with pytest.raises(PermissionDeniedError):
        services.organisation_review(actor=province.office, organisation=province.jinan_org, approve=True)


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks across connections: PostgreSQL")
def test_two_reviewers_at_the_same_moment_only_one_succeeds():
    from conftest import build_province

    province = build_province()
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def review(name, actor, approve):
        from django.db import connections

        try:
            barrier.wait()
            services.organisation_review(
                actor=actor, organisation=province.carol_org, approve=approve, note="" if approve else "不符"
            )
            outcomes[name] = "ok"
        except ConflictError:
            outcomes[name] = "conflict"
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=review, args=("jinan", province.city_jinan, True)),
        threading.Thread(target=review, args=("office", province.office, False)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes.values()) == ["conflict", "ok"]
    decisions = AuditEvent.objects.filter(
        action__in=["accounts.organisation.approved", "accounts.organisation.rejected"]
    )
    assert decisions.count() == 1


# --- the to-do item -----------------------------------------------------------------------------


def test_todo_counts_pending_registrations_for_the_reviewer(as_user, province):
    pending(province, 2)
    response = as_user(province.city_jinan).get(reverse("workspace:home"))
    todo = {item.label: item for item in response.context["todo"]}
    assert todo["待审核的企业注册"].count == 3
    assert todo["待审核的企业注册"].url == LIST
    assert "待审核的企业注册" in response.content.decode()


@pytest.mark.parametrize("who", ["city_qingdao", "alice", "office_viewer", "expert"])
def test_no_todo_for_others(as_user, province, who):
    response = as_user(getattr(province, who)).get(reverse("workspace:home"))
    assert "待审核的企业注册" not in [item.label for item in response.context["todo"]]


def test_todo_disappears_when_all_are_decided(as_user, province):
    services.organisation_review(actor=province.city_jinan, organisation=province.carol_org, approve=True)
    response = as_user(province.city_jinan).get(reverse("workspace:home"))
    assert "待审核的企业注册" not in [item.label for item in response.context["todo"]]
