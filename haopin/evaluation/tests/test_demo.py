"""The evaluation demo (``seed_demo``'s second part): complete, deterministic, dated, audited.

The province and the evaluation demo are seeded once per module inside a transaction that is
rolled back at the end (as in ``core/tests/test_demo.py``); the evaluation demo is played twice on
the same province, the first time inside a savepoint that is rolled back, so that the two runs
can be compared. Each test runs in its own savepoint.
"""

from __future__ import annotations

import datetime as dt
import io
from types import SimpleNamespace

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone

from conftest import restore_reference_data
from haopin.accounts.models import Organisation, User
from haopin.certificates import services as certificates
from haopin.certificates.models import Certificate, CertificateEvent
from haopin.core import audit, demo, workspace
from haopin.core.errors import ConflictError
from haopin.core.formatting import cn_date
from haopin.core.models import AuditEvent, AuditHead
from haopin.core.policies import scope_of
from haopin.evaluation import demo as evaluation_demo
from haopin.evaluation import experts, policies, selectors
from haopin.evaluation.models import (
    Application,
    Assignment,
    Batch,
    Decision,
    Objection,
    PanelDraw,
    PublicNotice,
    Score,
    VetoFinding,
)
from haopin.notifications.models import Notification
from haopin.standards.models import RuleSet, Standard

pytestmark = pytest.mark.django_db

S = Application.Status
PASSWORD = "demo-pass-1357"


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    with (
        django_db_blocker.unblock(),
        override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]),
    ):
        restore_reference_data()  # a browser test may have truncated the tables before us
        with transaction.atomic():
            plan = demo.build_plan()
            demo.seed(plan, password=PASSWORD)
            with transaction.atomic():
                evaluation_demo.seed()
                first_digest = evaluation_demo.database_digest()
                transaction.set_rollback(True)
            started = timezone.now()
            head = AuditHead.objects.get(pk=1).seq
            report = evaluation_demo.seed()
            yield SimpleNamespace(
                plan=plan,
                report=report,
                first_digest=first_digest,
                started=started,
                head_before=head,
                today=timezone.localdate(),
            )
            transaction.set_rollback(True)


def _user(username: str) -> User:
    return User.objects.get(username=username)


def _batch(sequence: int) -> Batch:
    return Batch.objects.get(sequence=sequence)


# --- building and determinism -----------------------------------------------------------------


def test_the_demo_builds_four_batches_on_a_fresh_province(seeded):
    statuses = dict(Batch.objects.values_list("sequence", "status"))
    assert statuses == {1: "closed", 2: "published", 3: "reviewing", 4: "open"}
    assert seeded.report.batches == 4
    assert seeded.report.applications == Application.objects.count() >= 25
    assert seeded.report.audit_events == AuditHead.objects.get(pk=1).seq - seeded.head_before


def test_the_demo_is_deterministic(seeded):
    assert evaluation_demo.database_digest() == seeded.first_digest
    assert Score.objects.count() > 100  # the digest covers every score and comment


def test_the_province_is_unchanged_apart_from_the_accounts_the_demo_adds(seeded):
    assert evaluation_demo.province_digest() == seeded.plan.digest()
    added = [
        u for u in User.objects.values_list("username", flat=True) if evaluation_demo.is_added_account(u)
    ]
    assert seeded.report.accounts == len(added) > 30
    # The new accounts sign in with the province's password.
    assert _user("expert-21").check_password(PASSWORD)
    assert _user("ent-11").check_password(PASSWORD)


def test_a_second_run_is_refused(seeded):
    with pytest.raises(ConflictError):
        evaluation_demo.seed()


def test_if_empty_is_still_a_no_op_on_a_seeded_database(seeded):
    counts = [m.objects.count() for m in (Organisation, User, Batch, Application, Certificate, AuditEvent)]
    head = AuditHead.objects.get(pk=1).seq
    out = io.StringIO()
    call_command("seed_demo", "--if-empty", stdout=out)
    assert "skipped" in out.getvalue()
    assert [
        m.objects.count() for m in (Organisation, User, Batch, Application, Certificate, AuditEvent)
    ] == counts
    assert AuditHead.objects.get(pk=1).seq == head


# --- standards and rule sets -------------------------------------------------------------------


def test_standards_include_the_group_standards_and_a_revision(seeded):
    group = Standard.objects.filter(is_haopin=True, code__startswith="T/SDAQI ")
    assert group.count() >= 4 and set(group.values_list("level", flat=True)) == {Standard.Level.GROUP}
    old = Standard.objects.get(code="T/SDAQI 001-2021")
    assert old.status == Standard.Status.SUPERSEDED and old.replaced_by.code == "T/SDAQI 001-2024"
    assert Standard.objects.filter(level=Standard.Level.NATIONAL).exists()


def test_rule_sets_cover_several_categories_and_brand_types_with_versions(seeded):
    published = RuleSet.objects.filter(status=RuleSet.Status.PUBLISHED)
    by_type: dict[str, set[str]] = {}
    for code, category in published.values_list("brand_type__code", "category__code"):
        by_type.setdefault(code, set()).add(category)
    assert len(by_type["product"]) >= 5 and len(by_type["enterprise"]) >= 2 and by_type["gi"]
    food = RuleSet.objects.filter(category__code="201", brand_type__code="product").order_by("version")
    assert [(r.version, r.status) for r in food] == [(1, "retired"), (2, "published"), (3, "draft")]
    assert RuleSet.objects.filter(status=RuleSet.Status.DRAFT, version=2).count() == 2
    for rule_set in published:
        assert rule_set.indicators.filter(parent__isnull=False).count() == 15
    for rule_set in published.filter(version=1):
        assert rule_set.published_at.date() < _batch(1).apply_from
    gi = published.get(brand_type__code="gi")
    assert not gi.criteria.filter(metric="rd_ratio").exists()
    assert gi.criteria.filter(metric="").count() == 2
    # Every application stays bound to the version it was evaluated under.
    assert set(_batch(1).applications.values_list("rule_set__version", flat=True)) <= {1}
    assert _batch(1).applications.filter(rule_set=food[0]).exists()


# --- the applications ---------------------------------------------------------------------------


def test_every_status_an_application_can_have_is_present(seeded):
    statuses = set(Application.objects.values_list("status", flat=True))
    # A batch holds applications on notice only when all of its others are decided.
    assert statuses == set(S.values) - {S.NOTICE}
    in_review = set(_batch(3).applications.values_list("status", flat=True))
    assert in_review == {S.QUALIFIED, S.CHECKED, S.EXPERT_REVIEW, S.REVIEWED, S.CONSULTED, S.APPROVED,
                         S.REJECTED, S.WITHDRAWN}  # fmt: skip
    open_batch = set(_batch(4).applications.values_list("status", flat=True))
    assert open_batch == {S.DRAFT, S.SUBMITTED, S.RETURNED, S.RECOMMENDED}


def test_the_open_batch_takes_applications_today(seeded):
    batch = _batch(4)
    assert batch.apply_from < seeded.today < batch.apply_until
    assert selectors.batches_open_for_applications(_user("ent-05")).filter(pk=batch.pk).exists()
    assert _batch(3).apply_until < seeded.today


def test_ent01_has_a_half_filled_draft_whose_checklist_names_what_is_missing(seeded):
    draft = Application.objects.get(
        batch__sequence=4, enterprise__organisation__memberships__user__username="ent-01"
    )
    assert draft.status == S.DRAFT
    gaps = selectors.application_gaps(draft)
    assert set(gaps) == {"figures", "self_assessment", "declaration"}
    assert draft.figures.count() == 2 and draft.products.exists() and draft.summary


def test_submitted_applications_wait_for_the_right_recommenders(seeded):
    for username in ("city-jinan", "city-qingdao", "dept-agri"):
        waiting = selectors.applications_to_recommend(_user(username)).filter(batch__sequence=4)
        assert waiting.exists(), username
        assert all(policies.is_recommender(_user(username), a) for a in waiting)


def test_recommendations_were_made_by_the_unit_in_charge(seeded):
    decisions = Decision.objects.filter(action="recommend").select_related(
        "application__enterprise__region", "application__brand", "organisation", "actor"
    )
    assert decisions.count() >= 20
    kinds = set()
    for decision in decisions:
        application, unit = decision.application, decision.organisation
        kinds.add(unit.kind)
        if unit.kind == Organisation.Kind.CITY_BUREAU:
            assert application.enterprise.region.code.startswith(unit.region.code[:4])
        else:
            scope = scope_of(decision.actor)
            programmes = set(application.brand.sources.values_list("programme_id", flat=True))
            assert application.brand.category_id in scope.category_ids or programmes & scope.programme_ids
        assert decision.opinion
    assert kinds == {Organisation.Kind.CITY_BUREAU, Organisation.Kind.DEPARTMENT}


def test_returned_applications_have_a_deadline_ahead(seeded):
    returned = Application.objects.filter(status=S.RETURNED)
    assert returned.exists()
    for application in returned:
        assert application.return_deadline > seeded.today
        assert application.decisions.filter(action="return").exclude(opinion="").exists()


def test_every_decision_has_its_audit_event(seeded):
    moved = AuditEvent.objects.filter(action="evaluation.application.moved", seq__gt=seeded.head_before)
    assert moved.count() == Decision.objects.count()
    assert Notification.objects.filter(kind="evaluation.application.submitted").count() >= 20


# --- the expert review --------------------------------------------------------------------------


def test_expert01_has_panels_to_declare(seeded):
    expert = _user("expert-01").expert_profile
    seats = Assignment.objects.filter(expert=expert, application__batch__sequence=3)
    assert seats.filter(role=Assignment.Role.PANEL, status=Assignment.Status.INVITED).count() >= 2
    assert set(seats.values_list("application__status", flat=True)) == {S.EXPERT_REVIEW}


def test_the_panels_in_review_are_at_every_step(seeded):
    seats = Assignment.objects.filter(application__status=S.EXPERT_REVIEW)
    statuses = set(seats.values_list("status", flat=True))
    assert statuses >= {"invited", "accepted", "submitted", "conflict", "standby"}
    # A draft sheet is saved but not submitted; the reserve took the seat of the conflicted expert.
    assert Score.objects.filter(assignment__status=Assignment.Status.ACCEPTED).exists()
    conflicted = seats.get(status=Assignment.Status.CONFLICT)
    promoted = seats.filter(application=conflicted.application, role=Assignment.Role.RESERVE)
    assert promoted.filter(status=Assignment.Status.INVITED).exists()
    raised = VetoFinding.objects.get(status=VetoFinding.Status.RAISED)
    assert raised.raised_by.expert_profile and raised.application.status == S.EXPERT_REVIEW


def test_scores_are_plausible_and_varied_with_comments(seeded):
    scored = Application.objects.filter(score_total__isnull=False)
    totals = sorted(scored.values_list("score_total", flat=True))
    assert totals[0] < 80 <= totals[-1] and len(set(totals)) > len(totals) // 2
    assert not Score.objects.filter(comment="").exists()
    for score in Score.objects.select_related("indicator")[:200]:
        assert 0 <= score.score <= score.indicator.max_score
    # The trimmed mean applies to the five-expert panels of the batch in review.
    assert _batch(3).applications.filter(status=S.REVIEWED).exists()
    assert Assignment.objects.filter(application__batch__sequence=3, status="submitted").count() >= 15


def test_the_draws_avoid_employers_and_replay_after_dating(seeded):
    draws = list(PanelDraw.objects.all())
    assert len(draws) >= 6
    for draw in draws:
        assert not draw.shortfalls
        assert experts.draw_replay(draw), draw.seed
    # expert-19 works for ent-03, which applied in the second batch: never on its panel.
    ent03 = Application.objects.get(
        batch__sequence=2, enterprise__organisation__memberships__user__username="ent-03"
    )
    assert not ent03.assignments.filter(expert__user__username="expert-19").exists()
    events = AuditEvent.objects.filter(action="evaluation.draw.made", seq__gt=seeded.head_before)
    assert any(e.new["exclusions"].get("employer") for e in events)


# --- notices, objections and certificates -------------------------------------------------------


def test_objections_one_upheld_one_dismissed(seeded):
    objections = {o.status: o for o in Objection.objects.select_related("application")}
    assert set(objections) == {Objection.Status.UPHELD, Objection.Status.DISMISSED}
    assert objections["upheld"].application.status == S.REJECTED
    assert objections["dismissed"].application.status == S.PUBLISHED
    for objection in objections.values():
        assert objection.answer and objection.answered_at > objection.created_at
    assert set(PublicNotice.objects.values_list("status", flat=True)) == {PublicNotice.Status.CLOSED}


def test_texts_name_the_story_dates(seeded):
    for notice in PublicNotice.objects.select_related("batch"):
        period = f"{cn_date(notice.starts_on)}至{cn_date(notice.ends_on)}"
        assert period in notice.body
        opinions = Decision.objects.filter(application__batch=notice.batch, action="open_notice")
        assert opinions.exists() and all(period in d.opinion for d in opinions)
        assert notice.starts_on.year < seeded.today.year or notice.batch.sequence == 2
    for certificate in Certificate.objects.filter(batch__sequence=1):
        note = Notification.objects.get(kind="certificates.issued", title__contains=certificate.number)
        assert cn_date(certificate.valid_from) in note.body


def test_certificates_with_every_status_and_their_reasons(seeded):
    statuses = set(Certificate.objects.values_list("status", flat=True))
    assert statuses == set(Certificate.Status.values)
    for certificate in Certificate.objects.exclude(status=Certificate.Status.VALID):
        assert certificate.status_reason
        assert certificate.events.filter(to_status=certificate.status).exists()
    restored = CertificateEvent.objects.filter(from_status="suspended", to_status="valid")
    assert restored.exists()
    expired = CertificateEvent.objects.get(to_status="expired")
    assert expired.actor is None and expired.certificate.valid_until < seeded.today


def test_the_first_batch_certificates_run_out_within_30_days_and_reminders_are_due(seeded):
    first = Certificate.objects.filter(batch__sequence=1, status=Certificate.Status.VALID)
    assert first.exists()
    for certificate in first:
        assert certificate.issued_on.year == seeded.today.year - 3
        assert seeded.today < certificate.valid_until <= seeded.today + dt.timedelta(days=30)
    reminded = certificates.certificates_remind(today=seeded.today)
    assert {c.pk for c, stage in reminded} == set(first.values_list("pk", flat=True))
    assert {stage for _, stage in reminded} == {30}


# --- dates and the audit trail ------------------------------------------------------------------


def test_the_story_is_dated_in_the_past_and_in_order(seeded):
    now = timezone.now()
    assert not Decision.objects.filter(created_at__gt=now).exists()
    assert not Notification.objects.filter(created_at__gt=now).exists()
    first, second = _batch(1), _batch(2)
    assert first.apply_until < first.published_at.date() < second.apply_from < second.published_at.date()
    for application in Application.objects.filter(batch__sequence__in=[1, 2]):
        times = list(application.decisions.order_by("pk").values_list("created_at", flat=True))
        assert times == sorted(times) and times[-1] < now - dt.timedelta(days=150)
        assert application.submitted_at < times[-1]
    certificate = Certificate.objects.filter(batch=second).first()
    assert certificate.issued_on == timezone.localdate(second.published_at)
    for draw in PanelDraw.objects.select_related("batch"):
        assert draw.created_at.date() > draw.batch.apply_until


def test_the_audit_trail_verifies_and_shows_when_the_demo_was_seeded(seeded):
    result = audit.verify()
    assert result.ok, result.problem
    events = AuditEvent.objects.filter(seq__gt=seeded.head_before)
    assert events.count() == seeded.report.audit_events
    assert not events.filter(created_at__lt=seeded.started).exists()
    assert set(events.values_list("client_ip", flat=True)) == {evaluation_demo.CLIENT}


# --- every role has something to do ---------------------------------------------------------------


@pytest.mark.parametrize(
    "username,label",
    [
        ("office", "待资格审查的申报"),
        ("office", "待抽取评审专家的申报"),
        ("office", "待征求部门意见的申报"),
        ("office", "待核实的否决情形"),
        ("office", "张证书将在30天内到期"),
        ("dept-agri", "待推荐的申报"),
        ("city-jinan", "待推荐的申报"),
        ("city-qingdao", "待推荐的申报"),
        ("ent-01", "待完善提交的申报"),
        ("ent-02", "待完善提交的申报"),
    ],
)
def test_every_role_has_something_to_do(seeded, username, label):
    items = {item.label: item.count for item in workspace.todo_list(_user(username))}
    assert items.get(label, 0) >= 1, items


def test_expert01_has_something_to_do(seeded):
    user = _user("expert-01")
    assert workspace.todo_list(user)
    unread = Notification.objects.filter(user=user, read_at__isnull=True)
    assert unread.filter(kind="evaluation.assignment.invited").exists()
    # What the completed batches told people was read long ago.
    opened = timezone.make_aware(dt.datetime.combine(_batch(3).apply_from, dt.time()))
    assert not Notification.objects.filter(read_at__isnull=True, created_at__lt=opened).exists()
