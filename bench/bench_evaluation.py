"""The expert review at the scale of a large batch: drawing panels, and aggregating the scores.

Issue 3 asks for:

- drawing panels for 2,000 applications from a pool of 5,000 experts with avoidance: < 5 s;
- a batch of 2,000 applications with panels of 7 experts and 30 indicators (420,000 scores):
  aggregation, ranking and the export in < 10 s, on SQLite and on PostgreSQL.

Each figure is also given as a ratio to a baseline measured in the same run: loading the pool
(the draw's first query) for the draw, and reading the 420,000 score rows with ``values_list``
for the aggregation. Run it against a migrated data directory (it migrates first)::

    HAOPIN_DATA_DIR=$(mktemp -d) python -m bench.bench_evaluation
    HAOPIN_DATA_DIR=... HAOPIN_DATABASE_URL=postgresql://... python -m bench.bench_evaluation

The data are generated with ``bulk_create`` inside one transaction that is rolled back at the
end, so a run leaves the database as it found it and can be repeated: enterprises in every
county of Shandong with two named competitors each, experts across the province (a few employed
by applicants or their competitors, a few at province level), earlier conflicts of interest
declared in a previous batch, quotas per category and per city. The draw and the aggregation
run through the services, exactly as the office runs them (audit, moves, notifications).

What it took (measured on a loaded 2-core machine, SQLite): moving the 2,000 applications one
by one through ``services.application_move`` (eight queries each) cost 15–20 s of the draw and
again of the aggregation, ``bulk_create`` of the 18,000 seats 4 s, ``bulk_update`` of six result
fields of 2,000 rows 5 s, and Django's decimal converters on 60,000 grouped rows 2 s. The services
now move batch-wide in bulk (``experts.move_together``: same table, one Decision and one audit
event per application), insert seats with ``COPY``/``executemany``, update results with one
prepared statement and aggregate in whole tenths of a point.
"""

from __future__ import annotations

import datetime as dt
import os
import random
from decimal import Decimal

from bench.harness import Result, median_seconds, once_seconds

APPLICATIONS = 2_000
EXPERTS = 5_000
PANEL = 7
RESERVE = 2
DIMENSIONS = 6  # × 5 leaf indicators = 30
SEED = 20250513


class _Rollback(Exception):
    pass


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "haopin.config.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    # A running server has loaded its URL configuration long before anyone draws (the first
    # reverse() imports every view module: 0.7 s that no request pays twice).
    from django.urls import reverse

    reverse("admin:index")


def _office():
    from haopin.accounts.models import Membership, Organisation, User
    from haopin.core.models import Region

    organisation = Organisation.objects.create(
        name="基准测试质量强省办", kind=Organisation.Kind.OFFICE, region=Region.objects.get(code="370000")
    )
    user = User.objects.create(username=f"bench-office-{organisation.pk}", full_name="基准测试")
    Membership.objects.create(user=user, organisation=organisation, role=Membership.Role.MANAGER)
    return user


def _rule_set(office):
    from haopin.core.models import BrandType, Category
    from haopin.standards import services
    from haopin.standards.models import RuleSet

    category = Category.objects.get(code="20101")
    brand_type = BrandType.objects.get(code="product")
    RuleSet.objects.filter(category=category, brand_type=brand_type, status=RuleSet.Status.DRAFT).delete()
    rule_set = services.ruleset_create(
        actor=office,
        category=category,
        brand_type=brand_type,
        title="基准测试评价细则",
        pass_line=Decimal("75"),
    )
    position = 0
    weights = [20, 20, 15, 15, 15, 15]
    for d in range(DIMENSIONS):
        position += 1
        dimension = services.ruleset_item_add(
            actor=office,
            rule_set=rule_set,
            kind="indicator",
            code=str(d + 1),
            name=f"维度{d + 1}",
            max_score=Decimal(weights[d]),
            position=position,
        )
        for leaf in range(5):
            position += 1
            services.ruleset_item_add(
                actor=office,
                rule_set=rule_set,
                kind="indicator",
                code=f"{d + 1}.{leaf + 1}",
                name=f"指标{d + 1}.{leaf + 1}",
                max_score=Decimal(weights[d]) / 5,
                parent=dimension,
                position=position,
            )
    services.ruleset_item_add(actor=office, rule_set=rule_set, kind="veto", code="F1", text="弄虚作假。")
    return services.ruleset_publish(actor=office, rule_set=rule_set)


def _batch(rule_set, *, status, sequence_offset=0):
    from django.db.models import Max

    from haopin.evaluation.models import Batch, BatchRuleSet

    sequence = (Batch.objects.filter(year=2099).aggregate(m=Max("sequence"))["m"] or 0) + 1 + sequence_offset
    batch = Batch.objects.create(
        year=2099,
        sequence=sequence,
        title=f"2099年第{sequence}批（基准测试）",
        status=status,
        apply_from=dt.date(2099, 3, 1),
        apply_until=dt.date(2099, 4, 30),
        panel_size=PANEL,
        reserve_size=RESERVE,
        avoid_same_city=True,
    )
    BatchRuleSet.objects.create(batch=batch, rule_set=rule_set)
    return batch


def _world(rng: random.Random):
    """2,000 applications waiting for the expert review, 5,000 experts, earlier conflicts."""
    from haopin.accounts.models import ExpertProfile, User
    from haopin.core import numbering
    from haopin.core.models import Category, Region, Tier
    from haopin.evaluation.models import Application, Assignment, Batch, PanelDraw, Quota
    from haopin.registry.models import Brand, Enterprise
    from haopin.registry.validation import make_uscc

    office = _office()
    rule_set = _rule_set(office)
    batch = _batch(rule_set, status=Batch.Status.REVIEWING)
    earlier = _batch(rule_set, status=Batch.Status.CLOSED)
    counties = list(Region.objects.filter(level=Region.Level.COUNTY).select_related("parent"))
    cities = list(Region.objects.filter(level=Region.Level.CITY))
    tier = Tier.objects.get(code="pool")

    base = 700_000_000 + rng.randrange(10_000_000)
    enterprises = Enterprise.objects.bulk_create(
        [
            Enterprise(
                uscc=make_uscc((county := rng.choice(counties)).code, base + i),
                name=f"基准企业{base + i}有限公司",
                region=county,
            )
            for i in range(APPLICATIONS)
        ],
        batch_size=1000,
    )
    brands = Brand.objects.bulk_create(
        [
            Brand(
                name=f"基准品牌{e.pk}",
                owner=e,
                brand_type=rule_set.brand_type,
                category=rule_set.category,
                region=e.region,
                tier=tier,
            )
            for e in enterprises
        ],
        batch_size=1000,
    )
    codes = [e.uscc for e in enterprises]
    year = 2099
    applications = [
        Application(
            number=numbering.with_check(f"BQ{year}{base % 10_000 + i:06d}"),
            batch=batch,
            enterprise=e,
            brand=b,
            rule_set=rule_set,
            status=Application.Status.CHECKED,
            competitors=rng.sample(codes, 2),
            created_by=office,
        )
        for i, (e, b) in enumerate(zip(enterprises, brands, strict=True))
    ]
    Application.objects.bulk_create(applications, batch_size=1000)

    users = User.objects.bulk_create(
        [
            User(username=f"bench-expert-{base}-{i}", full_name=f"专家{i}", password="!")
            for i in range(EXPERTS)
        ],
        batch_size=1000,
    )
    province = Region.objects.get(code="370000")
    profiles = []
    for i, user in enumerate(users):
        roll = rng.random()
        region = province if roll < 0.05 else rng.choice(cities) if roll < 0.5 else rng.choice(counties)
        employer_uscc = rng.choice(codes) if rng.random() < 0.03 else ""
        profiles.append(
            ExpertProfile(user=user, employer=f"单位{i % 700}", employer_uscc=employer_uscc, region=region)
        )
    ExpertProfile.objects.bulk_create(profiles, batch_size=1000)
    food, parent = rule_set.category, Category.objects.get(code="201")
    others = list(Category.objects.filter(level=3).exclude(pk=food.pk))
    through = ExpertProfile.specialities.through
    links = []
    for profile in profiles:
        links.append(
            through(expertprofile_id=profile.pk, category_id=(food if rng.random() < 0.8 else parent).pk)
        )
        links.append(through(expertprofile_id=profile.pk, category_id=rng.choice(others).pk))
    through.objects.bulk_create(links, batch_size=2000)

    # Conflicts of interest declared in an earlier batch: those experts are avoided again.
    earlier_apps = Application.objects.bulk_create(
        [
            Application(
                number=numbering.with_check(f"BP{year}{base % 10_000 + i:06d}"),
                batch=earlier,
                enterprise=a.enterprise,
                brand=a.brand,
                rule_set=rule_set,
                status=Application.Status.PUBLISHED,
                created_by=office,
            )
            for i, a in enumerate(rng.sample(applications, 200))
        ]
    )
    earlier_draw = PanelDraw.objects.create(
        batch=earlier,
        rule_set=rule_set,
        seed="earlier",
        panel_size=PANEL,
        reserve_size=RESERVE,
        avoid_same_city=True,
        pool_digest="-",
        result_digest="-",
        created_by=office,
    )
    declared = dt.datetime(2099, 1, 1, tzinfo=dt.UTC)
    Assignment.objects.bulk_create(
        [
            Assignment(
                application=a,
                expert=rng.choice(profiles),
                draw=earlier_draw,
                role=Assignment.Role.PANEL,
                order=1,
                status=Assignment.Status.CONFLICT,
                declared_at=declared,
                conflict_note="曾为其提供咨询",
            )
            for a in earlier_apps
        ]
    )
    Quota.objects.create(batch=batch, category=parent, limit=APPLICATIONS // 3)
    for city in rng.sample(cities, 5):
        Quota.objects.create(batch=batch, city=city, limit=40)
    return office, batch, rule_set


def _scores(rng: random.Random, batch, rule_set) -> int:
    """Every panel expert accepted and submitted a full sheet (420,000 rows via bulk_create)."""
    from django.utils import timezone

    from haopin.evaluation.models import Assignment, Score
    from haopin.standards.models import Indicator

    now = timezone.now()
    panel = Assignment.objects.filter(application__batch=batch, role=Assignment.Role.PANEL)
    panel.update(status=Assignment.Status.SUBMITTED, declared_at=now, submitted_at=now)
    leaves = list(
        Indicator.objects.filter(rule_set=rule_set, parent__isnull=False).values_list("pk", "max_score")
    )
    written = 0
    chunk: list[Score] = []
    quality: dict[int, float] = {}
    for assignment_id, application_id in panel.values_list("pk", "application_id").order_by("pk"):
        # Applications differ in quality; experts judge them alike, each a little stricter or
        # milder than the next (so that a few panels have an outlying sheet, as in real reviews).
        level = quality.setdefault(application_id, rng.uniform(0.6, 0.95))
        strictness = level + rng.gauss(0, 0.04)
        for indicator_id, maximum in leaves:
            tenths = int(maximum * 10)
            value = min(tenths, max(0, round(tenths * rng.gauss(strictness, 0.05))))
            chunk.append(
                Score(
                    assignment_id=assignment_id,
                    indicator_id=indicator_id,
                    score=Decimal(value) / 10,
                    comment="材料齐全，符合评分要点。",
                    updated_at=now,
                )
            )
        if len(chunk) >= 20_000:
            Score.objects.bulk_create(chunk, batch_size=5000)
            written += len(chunk)
            chunk = []
    Score.objects.bulk_create(chunk, batch_size=5000)
    return written + len(chunk)


def _analyze() -> None:
    # Fresh rows: give PostgreSQL's planner statistics, as autovacuum would after a real load.
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def run() -> list[Result]:
    _setup()
    from django.db import connection, transaction

    from haopin.accounts.models import ExpertProfile
    from haopin.evaluation import experts, exports, scoring
    from haopin.evaluation.models import Application, Assignment, Score

    rng = random.Random(SEED)
    results: list[Result] = []
    try:
        with transaction.atomic():
            office, batch, rule_set = _world(rng)
            _analyze()

            categories = experts.speciality_category_ids(rule_set.category)

            def load_pool() -> int:
                rows = (
                    ExpertProfile.objects.filter(
                        active=True, user__is_active=True, specialities__in=categories
                    )
                    .values_list("pk", "employer_uscc", "region__code", "region__level")
                    .distinct()
                    .order_by("pk")
                )
                return len(list(rows))

            pool_baseline = median_seconds(load_pool, repeat=5, warmup=1)
            draw_seconds, draw = once_seconds(
                lambda: experts.draw_panels(actor=office, batch=batch, rule_set=rule_set, seed="bench")
            )
            seats = Assignment.objects.filter(draw=draw).count()
            replay_seconds, replayed = once_seconds(lambda: experts.draw_replay(draw))
            assert replayed, "the draw did not replay"
            check = experts.draw_check(draw)
            exclusions = ", ".join(f"{k} {v:,}" for k, v in check.exclusions.items())
            results.append(
                Result(
                    f"draw: {APPLICATIONS:,} applications from {load_pool():,} experts",
                    draw_seconds,
                    baseline_name="loading the pool",
                    baseline_seconds=pool_baseline,
                    limit_seconds=5.0,
                    note=f"{seats:,} seats, {len(draw.shortfalls)} shortfalls; excluded: {exclusions}",
                )
            )
            results.append(
                Result(
                    "draw: replay (recompute and compare digests)",
                    replay_seconds,
                    baseline_name="loading the pool",
                    baseline_seconds=pool_baseline,
                )
            )

            written = _scores(rng, batch, rule_set)
            _analyze()

            def read_scores() -> int:
                rows = Score.objects.filter(assignment__application__batch=batch).values_list(
                    "assignment_id", "indicator_id", "score"
                )
                return len(list(rows))

            assert read_scores() == written
            read_baseline = median_seconds(read_scores, repeat=3, warmup=1)
            aggregate_seconds, outcome = once_seconds(
                lambda: scoring.aggregate(actor=office, batch=batch, rule_set=rule_set)
            )
            ranking_seconds, ranking = once_seconds(
                lambda: exports.ranking_xlsx(actor=office, batch=batch, rule_set=rule_set)
            )
            first = Application.objects.filter(batch=batch).order_by("rank", "number").first()
            sheet_seconds, _ = once_seconds(
                lambda: exports.scoring_sheet_xlsx(actor=office, application=first)
            )
            base = {"baseline_name": f"reading {written:,} scores", "baseline_seconds": read_baseline}
            results.append(
                Result(
                    f"aggregate: trimmed means, totals, spread, ranks, quotas, {APPLICATIONS:,} moves",
                    aggregate_seconds,
                    note=f"{outcome.passed:,} passed, {len(outcome.ties)} quota ties, "
                    f"{len(outcome.outliers)} with outliers",
                    **base,
                )
            )
            results.append(
                Result("export: ranking .xlsx", ranking_seconds, note=f"{len(ranking) / 1024:.0f} KB", **base)
            )
            results.append(Result("export: one scoring sheet .xlsx", sheet_seconds, **base))
            results.append(
                Result(
                    f"aggregation + ranking + export, {written:,} scores",
                    aggregate_seconds + ranking_seconds + sheet_seconds,
                    limit_seconds=10.0,
                    note=connection.vendor,
                    **base,
                )
            )
            raise _Rollback
    except _Rollback:
        pass
    return results


def main() -> None:
    for result in run():
        print(result.line())


if __name__ == "__main__":
    main()
