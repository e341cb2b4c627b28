"""Who sees which batches and applications, the selectors behind the pages (with pinned query
counts), and the to-do list each role gets."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.urls import NoReverseMatch, reverse

from haopin.core.errors import NotFoundError
from haopin.core.policies import scope_of
from haopin.evaluation import policies, selectors, services, workspace_entries
from haopin.evaluation.models import Application, Assignment
from haopin.evaluation.tests import test_applications as shared
from haopin.evaluation.tests.test_applications import PDF, advance, assign_expert, fill_in, new_batch
from haopin.registry.models import Brand

S = Application.Status

frozen_clock = shared.frozen_clock
rule_sets = shared.rule_sets
batch = shared.batch
alice_app = shared.alice_app
bob_app = shared.bob_app


def visible(user):
    return set(policies.applications_for_user(user).values_list("number", flat=True))


def test_each_role_sees_its_own_applications(province, alice_app, bob_app):
    alice, bob = alice_app.number, bob_app.number
    assert (
        visible(province.office) == visible(province.office_viewer) == visible(province.admin) == {alice, bob}
    )
    assert visible(province.alice) == visible(province.alice_viewer) == {alice}
    assert visible(province.bob) == {bob}
    assert visible(province.city_jinan) == visible(province.county_lixia) == {alice}
    assert visible(province.city_qingdao) == {bob}
    assert visible(province.dept_agri) == {bob}
    assert visible(province.dept_commerce) == set()
    assert visible(province.carol) == set() and visible(province.expert) == set()
    with pytest.raises(NotFoundError):
        selectors.application_get_for_user(province.bob, uuid=alice_app.uuid)
    assert selectors.application_get_for_user(province.city_jinan, number=alice.lower()) == alice_app


def test_a_recommender_sees_what_it_recommended_even_outside_its_scope(province, batch):
    application = services.application_recommend_start(
        actor=province.dept_agri, batch=batch, brand=province.bob_brand
    )
    # Moving the brand out of the department's category and programmes keeps the recommendation.
    Brand.objects.filter(pk=province.bob_brand.pk).update(category=province.cat_food)
    province.bob_brand.sources.all().delete()
    assert visible(province.dept_agri) == {application.number}


def test_an_expert_sees_only_assigned_and_declared_applications(province, alice_app, bob_app):
    assignment = assign_expert(alice_app, province.expert, Assignment.Status.INVITED)
    assert visible(province.expert) == set()
    for status in (Assignment.Status.DECLINED, Assignment.Status.CONFLICT, Assignment.Status.STANDBY):
        Assignment.objects.filter(pk=assignment.pk).update(status=status)
        assert visible(province.expert) == set()
    for status in (Assignment.Status.ACCEPTED, Assignment.Status.SUBMITTED):
        Assignment.objects.filter(pk=assignment.pk).update(status=status)
        assert visible(province.expert) == {alice_app.number}
    with pytest.raises(NotFoundError):
        selectors.application_get_for_user(province.expert, uuid=bob_app.uuid)


def test_draft_batches_are_for_the_office_only(province, batch):
    draft = new_batch(province.office, sequence=2)
    office_view = set(selectors.batch_list_for_user(province.office_viewer).values_list("pk", flat=True))
    assert office_view == {batch.pk, draft.pk}
    for user in (province.alice, province.city_jinan, province.expert):
        assert set(policies.batches_for_user(user).values_list("pk", flat=True)) == {batch.pk}
    with pytest.raises(NotFoundError):
        selectors.batch_get_for_user(province.alice, draft.uuid)
    assert selectors.batch_get_for_user(province.alice, batch.uuid) == batch
    counted = selectors.batch_list_for_user(province.office).get(pk=batch.pk)
    assert counted.application_count == 0


# --- selectors ---------------------------------------------------------------------------------


def _many_applications(province, batch, count):
    for index in range(count):
        brand = Brand.objects.create(
            name=f"泉城{index:02d}",
            owner=province.alice_ent,
            brand_type=province.product_type,
            category=province.cat_food,
            region=province.lixia,
            tier=province.pool,
        )
        services.application_start(actor=province.alice, batch=batch, brand=brand)


def _render_rows(applications):
    return [
        (
            a.number,
            a.batch.title,
            a.brand.name,
            a.brand.category.name,
            a.brand.brand_type.name,
            a.enterprise.region.parent.name,
            a.rule_set.title,
            getattr(a.recommender, "name", ""),
        )
        for a in applications
    ]


@pytest.mark.parametrize("count", [2, 12])
def test_the_application_list_costs_one_query_whatever_its_size(
    province, batch, count, django_assert_num_queries
):
    _many_applications(province, batch, count)
    users = [province.office, province.alice, province.city_jinan, province.dept_agri]
    for user in users:
        # Computed once per user object (i.e. once per request) and cached on it.
        scope_of(user)
        policies.expert_profile(user)
    for user in users:
        with django_assert_num_queries(1):
            rows = _render_rows(selectors.application_list_for_user(user))
        assert len(rows) == (count if user != province.dept_agri else 0)


def test_the_application_page_loads_in_a_fixed_number_of_queries(
    province, alice_app, django_assert_max_num_queries
):
    complete = fill_in(alice_app, province.alice)
    # 12 for a draft (two of them find what is missing for submission), 10 afterwards; never
    # more with more decisions, evidence or checks.
    with django_assert_max_num_queries(12):
        page = selectors.application_page(complete)
    assert len(page.decisions) == 0 and page.gaps == {}
    for index in range(3):
        services.application_evidence_add(
            actor=province.alice,
            application=complete,
            upload=io.BytesIO(PDF),
            name=f"{index}.pdf",
            title=f"证明{index}",
        )
    services.application_sign_declaration(actor=province.alice, application=complete, name="李明")
    advance(
        complete, S.QUALIFIED, owner=province.alice, recommender=province.city_jinan, office=province.office
    )
    with django_assert_max_num_queries(12):
        page = selectors.application_page(complete)
    assert [d.action for d in page.decisions] == ["submit", "recommend", "qualify"]
    assert len(page.evidence) == 3 and [f.year for f in page.figures] == [2022, 2023, 2024]
    assert len(page.leaf_indicators) == 15 == len(page.self_assessments)
    assert page.eligibility.met and page.veto_problems == []
    assert [c.criterion.code for c in page.checks] == ["Z8"]
    assert page.products == [province.alice_product]


def test_status_counts_within_the_users_scope(province, alice_app, bob_app):
    fill_in(alice_app, province.alice)
    services.application_submit(actor=province.alice, application=alice_app)
    office = selectors.application_status_counts(province.office)
    assert office[S.DRAFT] == 1 and office[S.SUBMITTED] == 1 and office[S.PUBLISHED] == 0
    assert set(office) == set(S.values)
    assert selectors.application_status_counts(province.city_qingdao)[S.SUBMITTED] == 0
    assert selectors.application_status_counts(province.alice, batch=alice_app.batch)[S.SUBMITTED] == 1


# --- to-do lists -------------------------------------------------------------------------------


def counts(user):
    return {entry.label: entry.count for entry in workspace_entries.todo_counts(user)}


def test_applicants_see_drafts_to_complete_and_returned_applications(province, alice_app, frozen_clock):
    assert counts(province.alice) == {"待完善提交的申报": 1, "退回修改的申报": 0}
    assert counts(province.alice_viewer) == {}
    fill_in(alice_app, province.alice)
    services.application_submit(actor=province.alice, application=alice_app)
    services.application_move(
        application=alice_app,
        action="return",
        actor=province.city_jinan,
        opinion="补充",
        deadline=dt.date(2025, 6, 1),
    )
    assert counts(province.alice) == {"待完善提交的申报": 0, "退回修改的申报": 1}
    frozen_clock.move_to(dt.datetime(2025, 6, 2, 9, 0, tzinfo=shared.SHANGHAI))
    assert counts(province.alice) == {"待完善提交的申报": 0, "退回修改的申报": 0}


def test_recommenders_see_submitted_applications_they_may_recommend(province, alice_app, bob_app):
    fill_in(alice_app, province.alice)
    fill_in(bob_app, province.bob)
    services.application_submit(actor=province.alice, application=alice_app)
    services.application_submit(actor=province.bob, application=bob_app)
    assert counts(province.city_jinan) == {"待推荐的申报": 1}
    assert counts(province.county_lixia) == {"待推荐的申报": 1}
    assert counts(province.city_qingdao) == {"待推荐的申报": 1}
    assert counts(province.dept_agri) == {"待推荐的申报": 1}
    assert counts(province.dept_commerce) == {"待推荐的申报": 0}
    services.application_move(
        application=bob_app, action="recommend", actor=province.dept_agri, opinion="同意"
    )
    assert counts(province.city_qingdao) == {"待推荐的申报": 0}


def test_the_office_sees_what_waits_at_each_stage(province, alice_app, bob_app):
    fill_in(alice_app, province.alice)
    fill_in(bob_app, province.bob)
    advance(
        alice_app,
        S.RECOMMENDED,
        owner=province.alice,
        recommender=province.city_jinan,
        office=province.office,
    )
    advance(bob_app, S.CHECKED, owner=province.bob, recommender=province.city_qingdao, office=province.office)
    services.veto_raise(
        actor=province.office,
        application=alice_app,
        veto_item=alice_app.rule_set.veto_items.get(code="F1"),
        note="舆情反映",
    )
    office = counts(province.office)
    assert office["待资格审查的申报"] == 1 and office["待抽取评审专家的申报"] == 1
    assert office["待舆情与信用核查的申报"] == 0 and office["待核实的否决情形"] == 1
    assert counts(province.office_viewer) == {} and counts(province.admin) == {}
    assert counts(province.expert) == {}


def test_todo_items_link_to_the_filtered_application_list(province, alice_app):
    items = workspace_entries.todo_items(province.alice)
    assert [(i.label, i.count) for i in items] == [("待完善提交的申报", 1), ("退回修改的申报", 0)]
    try:
        base = reverse(workspace_entries.APPLICATION_LIST)
    except NoReverseMatch:
        pytest.skip("the evaluation workspace pages are not routed in this build")
    assert items[0].url == f"{base}?status=draft"
