"""Batches: creating and changing them, their rule sets and quotas, and the batch's moves from
draft to closed (open, close the window, public notice, publication with certificates)."""

from __future__ import annotations

import datetime as dt

import pytest

from haopin.core.errors import ConflictError, PermissionDeniedError, ValidationFailed
from haopin.core.models import AuditEvent, Category, Region
from haopin.core.workflow import IllegalTransition
from haopin.evaluation import selectors, services
from haopin.evaluation.models import Application, Batch, BatchRuleSet, Quota
from haopin.evaluation.tests import test_applications as shared
from haopin.evaluation.tests.test_applications import (
    SHANGHAI,
    advance,
    audit_count,
    fill_in,
    new_batch,
    publish_rule_set,
)
from haopin.standards import services as standards_services

S = Application.Status
B = Batch.Status

# Fixtures shared with the other evaluation test modules.
frozen_clock = shared.frozen_clock
rule_sets = shared.rule_sets
batch = shared.batch
alice_app = shared.alice_app
bob_app = shared.bob_app


# --- creating and changing batches --------------------------------------------------------------


def test_the_office_creates_a_draft_batch(province):
    created = new_batch(
        province.office, sequence=2, recommend_until=dt.date(2025, 7, 15), review_until=dt.date(2025, 9, 30)
    )
    assert created.status == B.DRAFT and created.title == "2025年第2批好品山东品牌评价"
    event = AuditEvent.objects.get(action="evaluation.batch.created")
    assert event.target_id == str(created.pk)
    assert event.new["sequence"] == 2 and event.new["apply_until"] == "2025-06-30"


def test_only_writing_office_members_manage_batches(province):
    for user in (
        province.office_viewer,
        province.admin,
        province.city_jinan,
        province.dept_agri,
        province.alice,
    ):
        with pytest.raises(PermissionDeniedError, match="质量强省办"):
            new_batch(user)
    assert not Batch.objects.exists()
    created = new_batch(province.office)
    with pytest.raises(PermissionDeniedError):
        services.batch_update(actor=province.office_viewer, batch=created, title="改名")
    with pytest.raises(PermissionDeniedError):
        services.batch_open(actor=province.admin, batch=created)


def test_year_and_sequence_are_unique(province):
    new_batch(province.office)
    with pytest.raises(ValidationFailed, match="2025年已有第1批") as refused:
        new_batch(province.office, title="重复的批次")
    assert "sequence" in refused.value.details
    assert new_batch(province.office, sequence=2).sequence == 2
    assert new_batch(province.office, year=2026).year == 2026
    assert Batch.objects.count() == 3


def test_stage_dates_must_be_in_order(province):
    with pytest.raises(ValidationFailed) as window:
        new_batch(province.office, apply_from=dt.date(2025, 6, 1), apply_until=dt.date(2025, 5, 1))
    assert "apply_until" in window.value.details
    with pytest.raises(ValidationFailed) as recommend:
        new_batch(province.office, recommend_until=dt.date(2025, 6, 1))
    assert "recommend_until" in recommend.value.details
    with pytest.raises(ValidationFailed) as review:
        new_batch(province.office, recommend_until=dt.date(2025, 7, 31), review_until=dt.date(2025, 7, 1))
    assert "review_until" in review.value.details
    with pytest.raises(ValidationFailed) as year:
        new_batch(province.office, year=2019)
    assert "year" in year.value.details
    assert not Batch.objects.exists()


def test_a_draft_changes_freely_an_open_batch_only_its_later_stages(province, rule_sets):
    draft = new_batch(province.office)
    services.batch_update(actor=province.office, batch=draft, title="2025年第一批", panel_size=9)
    draft.refresh_from_db()
    assert (draft.title, draft.panel_size) == ("2025年第一批", 9)
    event = AuditEvent.objects.get(action="evaluation.batch.updated")
    assert event.old == {"title": "2025年第1批好品山东品牌评价", "panel_size": 7}
    services.batch_rule_set_attach(actor=province.office, batch=draft, rule_set=rule_sets.food)
    services.batch_open(actor=province.office, batch=draft)
    with pytest.raises(ValidationFailed, match="只能调整推荐截止日期") as frozen:
        services.batch_update(actor=province.office, batch=draft, apply_until=dt.date(2025, 7, 31))
    assert "apply_until" in frozen.value.details
    # A form sending the unchanged fields back is fine.
    services.batch_update(
        actor=province.office,
        batch=draft,
        title="2025年第一批",
        apply_until="2025-06-30",
        review_until=dt.date(2025, 10, 31),
        notice_days=10,
    )
    draft.refresh_from_db()
    assert draft.apply_until == dt.date(2025, 6, 30) and draft.review_until == dt.date(2025, 10, 31)
    assert draft.notice_days == 10
    with pytest.raises(ValidationFailed, match="评审截止日期不能早于"):
        services.batch_update(actor=province.office, batch=draft, review_until=dt.date(2025, 6, 1))


# --- rule sets and quotas ------------------------------------------------------------------------


def test_only_published_level_two_rule_sets_one_per_category_and_type(province, rule_sets):
    draft = new_batch(province.office)
    link = services.batch_rule_set_attach(actor=province.office, batch=draft, rule_set=rule_sets.food)
    assert link.rule_set == rule_sets.food
    assert audit_count("evaluation.batch.rules_changed") == 1
    # A new version of the same (category, type) may not sit beside the first.
    next_version = standards_services.ruleset_new_version(actor=province.office, rule_set=rule_sets.food)
    with pytest.raises(ValidationFailed, match="只能选用已发布的评价细则"):
        services.batch_rule_set_attach(actor=province.office, batch=draft, rule_set=next_version)
    standards_services.ruleset_publish(actor=province.office, rule_set=next_version)
    with pytest.raises(ValidationFailed, match="已为“食品饮料·产品品牌”选用") as taken:
        services.batch_rule_set_attach(actor=province.office, batch=draft, rule_set=next_version)
    assert taken.value.code == "ruleset_taken"
    # Replacing means removing first.
    services.batch_rule_set_detach(actor=province.office, batch=draft, rule_set=rule_sets.food)
    services.batch_rule_set_attach(actor=province.office, batch=draft, rule_set=next_version)
    standards_services.ruleset_retire(actor=province.office, rule_set=rule_sets.tea)
    with pytest.raises(ValidationFailed, match="已停用"):
        services.batch_rule_set_attach(actor=province.office, batch=draft, rule_set=rule_sets.tea)
    sub_category = publish_rule_set(province.office, province.cat_food, province.product_type, "加工食品细则")
    with pytest.raises(ValidationFailed, match="二级类别"):
        services.batch_rule_set_attach(actor=province.office, batch=draft, rule_set=sub_category)
    assert list(BatchRuleSet.objects.values_list("rule_set", flat=True)) == [next_version.pk]


def test_a_rule_set_in_use_cannot_be_removed(province, batch, alice_app, rule_sets):
    with pytest.raises(ConflictError, match="1 项申报"):
        services.batch_rule_set_detach(actor=province.office, batch=batch, rule_set=rule_sets.food)
    services.batch_rule_set_detach(actor=province.office, batch=batch, rule_set=rule_sets.tea)
    assert list(batch.rule_sets.values_list("rule_set", flat=True)) == [rule_sets.food.pk]


def test_quotas_per_category_and_per_city(province, batch):
    food = Category.objects.get(code="201")
    qingdao = Region.objects.get(code="370200")
    quota = services.batch_quota_set(actor=province.office, batch=batch, category=food, limit=10)
    services.batch_quota_set(actor=province.office, batch=batch, city=qingdao, limit=5)
    services.batch_quota_set(actor=province.office, batch=batch, category=food, limit=12)
    assert Quota.objects.count() == 2
    quota.refresh_from_db()
    assert quota.limit == 12
    changes = AuditEvent.objects.filter(action="evaluation.batch.rules_changed").order_by("seq")
    assert changes.last().old == {"quota": {"category": food.pk, "city": None, "limit": 10}}
    with pytest.raises(ValidationFailed, match="一个类别或一个城市"):
        services.batch_quota_set(actor=province.office, batch=batch, category=food, city=qingdao, limit=3)
    with pytest.raises(ValidationFailed, match="一个类别或一个城市"):
        services.batch_quota_set(actor=province.office, batch=batch, limit=3)
    with pytest.raises(ValidationFailed, match="二级类别"):
        services.batch_quota_set(actor=province.office, batch=batch, category=province.cat_food, limit=3)
    with pytest.raises(ValidationFailed, match="设区的市"):
        services.batch_quota_set(actor=province.office, batch=batch, city=province.lixia, limit=3)
    with pytest.raises(ValidationFailed):
        services.batch_quota_set(actor=province.office, batch=batch, city=qingdao, limit=0)
    with pytest.raises(PermissionDeniedError):
        services.batch_quota_set(actor=province.city_qingdao, batch=batch, city=qingdao, limit=50)
    services.batch_quota_remove(actor=province.office, quota=quota)
    assert list(Quota.objects.values_list("city__code", "limit")) == [("370200", 5)]


# --- the batch's moves ---------------------------------------------------------------------------


def test_a_batch_opens_only_with_a_rule_set(province, rule_sets):
    draft = new_batch(province.office)
    with pytest.raises(ValidationFailed, match="至少一套评价细则"):
        services.batch_open(actor=province.office, batch=draft)
    draft.refresh_from_db()
    assert draft.status == B.DRAFT and audit_count("evaluation.batch.moved") == 0
    services.batch_rule_set_attach(actor=province.office, batch=draft, rule_set=rule_sets.food)
    opened = services.batch_move(actor=province.office, batch=draft, action="open")
    assert opened.status == B.OPEN and draft.status == B.OPEN
    event = AuditEvent.objects.get(action="evaluation.batch.moved")
    assert event.old == {"status": "draft"} and event.new == {"status": "open", "action": "open"}


def test_illegal_batch_moves_change_nothing(province, rule_sets):
    draft = new_batch(province.office)
    events = AuditEvent.objects.count()
    for action in ("close_applications", "open_notice", "publish", "close"):
        with pytest.raises(IllegalTransition, match="当前状态为“草稿”，不能执行"):
            services.batch_move(actor=province.office, batch=draft, action=action)
    with pytest.raises(ValidationFailed, match="未知的操作"):
        services.batch_move(actor=province.office, batch=draft, action="archive")
    draft.refresh_from_db()
    assert draft.status == B.DRAFT and AuditEvent.objects.count() == events


def test_the_notice_waits_for_every_application_to_be_decided(
    province, batch, alice_app, bob_app, frozen_clock
):
    fill_in(alice_app, province.alice)
    fill_in(bob_app, province.bob)
    advance(
        alice_app, S.APPROVED, owner=province.alice, recommender=province.city_jinan, office=province.office
    )
    advance(bob_app, S.QUALIFIED, owner=province.bob, recommender=province.dept_agri, office=province.office)
    draft_left = services.application_start(
        actor=province.alice,
        batch=batch,
        brand=province.alice_brand.owner.brands.create(
            name="泉城二号",
            brand_type=province.product_type,
            category=province.cat_food,
            region=province.lixia,
            tier=province.pool,
        ),
    )
    services.batch_close_applications(actor=province.office, batch=batch)
    events = AuditEvent.objects.count()
    with pytest.raises(ValidationFailed, match="还有 1 项申报尚未作出决定") as refused:
        services.batch_open_notice(actor=province.office, batch=batch)
    assert refused.value.details == {"applications": [bob_app.number]}
    assert "待舆情与信用核查" in refused.value.message and draft_left.number not in refused.value.message
    batch.refresh_from_db()
    assert batch.status == B.REVIEWING and AuditEvent.objects.count() == events
    # Returned with a deadline still running: undecided; once the deadline has passed: decided.
    services.application_move(
        application=bob_app,
        action="return",
        actor=province.office,
        opinion="请补充",
        deadline=dt.date(2025, 5, 20),
    )
    with pytest.raises(ValidationFailed, match=bob_app.number):
        services.batch_open_notice(actor=province.office, batch=batch)
    frozen_clock.move_to(dt.datetime(2025, 5, 21, 9, 0, tzinfo=SHANGHAI))
    assert selectors.undecided_applications(batch) == []


def test_a_whole_batch_from_notice_to_publication_and_close(
    province, batch, alice_app, bob_app, frozen_clock
):
    from haopin.certificates.models import Certificate
    from haopin.evaluation import notices

    fill_in(alice_app, province.alice)
    fill_in(bob_app, province.bob)
    advance(
        alice_app, S.APPROVED, owner=province.alice, recommender=province.city_jinan, office=province.office
    )
    advance(
        bob_app, S.REVIEWED, owner=province.bob, recommender=province.city_qingdao, office=province.office
    )
    services.application_move(
        application=bob_app, action="reject", actor=province.office, opinion="综合得分未达到合格线"
    )
    services.batch_close_applications(actor=province.office, batch=batch)
    services.batch_open_notice(actor=province.office, batch=batch)
    batch.refresh_from_db()
    alice_app.refresh_from_db()
    assert batch.status == B.NOTICE and alice_app.status == S.NOTICE
    notice = batch.notice
    moved = AuditEvent.objects.filter(action="evaluation.batch.moved").latest("seq")
    assert moved.new == {"status": "notice", "action": "open_notice", "notice": notice.pk}
    # Publication waits for the notice to end.
    with pytest.raises(ValidationFailed, match="公示尚未办结"):
        services.batch_publish(actor=province.office, batch=batch)
    assert Application.objects.get(pk=alice_app.pk).status == S.NOTICE
    frozen_clock.move_to(dt.datetime.combine(notice.ends_on + dt.timedelta(days=1), dt.time(9), SHANGHAI))
    notices.notices_close_ended()
    with pytest.raises(PermissionDeniedError):
        services.batch_publish(actor=province.office_viewer, batch=batch)
    services.batch_publish(actor=province.office, batch=batch)
    batch.refresh_from_db()
    alice_app.refresh_from_db()
    bob_app.refresh_from_db()
    assert batch.status == B.PUBLISHED and batch.published_at is not None
    assert alice_app.status == S.PUBLISHED and bob_app.status == S.REJECTED
    certificate = Certificate.objects.get()
    assert certificate.application == alice_app and certificate.brand == province.alice_brand
    published = AuditEvent.objects.filter(action="evaluation.batch.moved").latest("seq")
    assert published.new["published"] == [alice_app.number]
    assert published.new["certificates"] == [certificate.number]
    services.batch_close(actor=province.office, batch=batch)
    batch.refresh_from_db()
    assert batch.status == B.CLOSED
    with pytest.raises(ConflictError, match="不能修改"):
        services.batch_update(actor=province.office, batch=batch, review_until=dt.date(2025, 12, 31))
    assert audit_count("evaluation.batch.moved") == 5
