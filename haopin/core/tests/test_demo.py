"""The demo province (``seed_demo``): deterministic, valid, complete, scoped, and audited.

The province is seeded once per module (a few seconds) inside a transaction that is rolled
back at the end; each test runs in its own savepoint within it. If pytest-xdist hands a worker
another module's test in between, pytest tears the module fixture down first (and seeds again
afterwards), so no other test ever runs inside the seeded transaction.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.test.utils import override_settings
from stdnum import ean
from stdnum.cn import uscc

from conftest import restore_reference_data
from haopin.accounts.models import ExpertProfile, Membership, Organisation, User
from haopin.core import audit, demo
from haopin.core.models import AuditEvent, AuditHead, BrandType, Category, Region, SourceProgramme, Tier
from haopin.core.policies import ScopeKind, scope_of
from haopin.evaluation import demo as evaluation_demo
from haopin.registry import policies as registry_policies
from haopin.registry.models import Brand, BrandSource, Enterprise, Product
from haopin.registry.validation import normalise_standard_code

pytestmark = pytest.mark.django_db

# Not the default password: --password must reach every account.
PASSWORD = "demo-pass-2468"
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    with (
        django_db_blocker.unblock(),
        override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]),
    ):
        restore_reference_data()  # a browser test may have truncated the tables before us
        with transaction.atomic():
            head = AuditHead.objects.get(pk=1).seq
            plan = demo.build_plan()
            report = demo.seed(plan, password=PASSWORD)
            yield SimpleNamespace(plan=plan, report=report, head_before=head)
            transaction.set_rollback(True)


def _erase_seeded_data() -> None:
    Product.objects.all().delete()
    BrandSource.objects.all().delete()
    Brand.objects.all().delete()
    Enterprise.objects.all().delete()
    User.objects.all().delete()  # memberships and expert profiles go with them
    Organisation.objects.all().delete()


# --- determinism -------------------------------------------------------------------------------


def test_the_database_holds_exactly_the_plan(seeded):
    assert demo.database_digest() == seeded.plan.digest()


def test_plan_is_the_same_in_another_process_with_another_hash_seed(seeded):
    code = "from haopin.core import demo; print(demo.build_plan().digest())"
    digests = {
        subprocess.run(
            [sys.executable, "-c", code],
            env={**os.environ, "PYTHONHASHSEED": hash_seed},
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        for hash_seed in ("1", "4242")
    }
    assert digests == {seeded.plan.digest()}


def test_another_seed_gives_another_province(seeded):
    other = demo.build_plan(seed=7)
    assert other.digest() != seeded.plan.digest()
    assert {e.uscc for e in other.enterprises}.isdisjoint({e.uscc for e in seeded.plan.enterprises})


def test_seeding_an_emptied_database_again_gives_the_same_digest(seeded):
    _erase_seeded_data()
    assert demo.database_digest() != seeded.plan.digest()
    out = io.StringIO()
    call_command("seed_demo", "--password", PASSWORD, stdout=out)
    # seed_demo also runs the evaluation demo, which adds experts and applicants' accounts.
    assert evaluation_demo.province_digest() == seeded.plan.digest()
    assert f"digest: {seeded.plan.digest()}" in out.getvalue()


# --- validity ----------------------------------------------------------------------------------


def test_every_credit_code_is_valid_and_names_its_county(seeded):
    enterprises = list(Enterprise.objects.select_related("region"))
    assert len(enterprises) >= 300
    for enterprise in enterprises:
        assert uscc.is_valid(enterprise.uscc), enterprise.uscc
        assert enterprise.uscc[2:8] == enterprise.region.code
        assert enterprise.region.level == Region.Level.COUNTY
    for code in Organisation.objects.exclude(uscc=None).values_list("uscc", flat=True):
        assert uscc.is_valid(code), code
    assert Organisation.objects.filter(uscc=None).count() == 0


def test_every_gtin_is_valid_and_chinese(seeded):
    gtins = list(Product.objects.exclude(gtin=None).values_list("gtin", flat=True))
    assert len(gtins) >= 500
    for gtin in gtins:
        assert ean.is_valid(gtin) and len(gtin) == 13, gtin
        assert 690 <= int(gtin[:3]) <= 699
    goods_without = Product.objects.filter(kind=Product.Kind.GOODS, gtin=None)
    collective = goods_without.exclude(brand__brand_type__code__in=["gi", "regional", "industry"])
    assert not collective.exists()  # only collective brands' products have no company GTIN
    assert not Product.objects.exclude(kind=Product.Kind.GOODS).exclude(gtin=None).exists()


def test_every_standard_code_is_well_formed(seeded):
    codes = {code for row in Product.objects.values_list("standard_codes", flat=True) for code in row}
    assert any(code.startswith("GB/T ") for code in codes)
    assert any(code.startswith("DB37/T ") for code in codes)
    assert any(code.startswith("T/SDAQI ") for code in codes)
    for code in codes:
        assert normalise_standard_code(code) == code


@pytest.mark.parametrize(
    "model", [Enterprise, Brand, BrandSource, Product, Organisation, Membership, ExpertProfile]
)
def test_the_model_validators_accept_a_sample_of_rows(seeded, model):
    rows = list(model.objects.order_by("pk"))
    sample = rows[::9] + rows[-3:]
    assert sample
    for row in sample:
        row.full_clean()


# --- completeness ------------------------------------------------------------------------------


def test_every_brand_type_tier_and_programme_is_present(seeded):
    types = set(Brand.objects.values_list("brand_type__code", flat=True))
    assert types == set(BrandType.objects.values_list("code", flat=True))
    tiers = set(Brand.objects.values_list("tier__code", flat=True))
    assert tiers == set(Tier.objects.values_list("code", flat=True))
    for tier in tiers:  # every tier holds more than one kind of brand
        assert Brand.objects.filter(tier__code=tier).values("brand_type").distinct().count() >= 2
    programmes = set(BrandSource.objects.values_list("programme__code", flat=True))
    assert programmes == set(SourceProgramme.objects.values_list("code", flat=True))
    assert not BrandSource.objects.filter(certificate_number="").exists()
    kinds = set(Product.objects.values_list("kind", flat=True))
    assert kinds == set(Product.Kind.values)
    assert Brand.objects.exclude(name_en="").count() == Brand.objects.count()


def test_every_city_has_enterprises_and_many_counties_do(seeded):
    for city in Region.objects.filter(level=Region.Level.CITY):
        count = Enterprise.objects.filter(region__parent=city).count()
        assert count >= 10, city.name
        assert Organisation.objects.filter(kind="city_bureau", region=city).exists()
    assert Enterprise.objects.values("region").distinct().count() >= 80
    assert Organisation.objects.filter(kind="county_bureau").count() >= 10


def test_enterprises_have_plausible_details(seeded):
    for enterprise in Enterprise.objects.select_related("region__parent")[::25]:
        assert enterprise.name.endswith(("公司", "协会", "中心"))
        assert enterprise.legal_representative and enterprise.contact_name
        assert enterprise.address.startswith(f"山东省{enterprise.region.parent.name}{enterprise.region.name}")
        assert enterprise.founded_on.year >= 1956 and enterprise.founded_on.year < 2020
        assert enterprise.industry_code and enterprise.size and enterprise.contact_phone
        assert enterprise.contact_email.endswith(".example")


def test_experts_have_profiles(seeded):
    experts = list(ExpertProfile.objects.select_related("user", "region").prefetch_related("specialities"))
    assert [e.user.username for e in experts] == [f"expert-{n:02d}" for n in range(1, 21)]
    assert len({e.employer for e in experts}) >= 10
    for expert in experts:
        assert expert.specialities.exists() and expert.title and expert.employer_uscc
    # Two work for demo enterprises, so that conflict-of-interest avoidance has cases.
    employers = set(Enterprise.objects.values_list("uscc", flat=True))
    assert sum(e.employer_uscc in employers for e in experts) == 2


# --- accounts ----------------------------------------------------------------------------------

NAMED = [
    "admin", "office", "dept-agri", "city-jinan", "city-qingdao",
    *(f"expert-{n:02d}" for n in range(1, 21)),
    *(f"ent-{n:02d}" for n in range(1, 11)),
]  # fmt: skip


@pytest.mark.parametrize("username", NAMED)
def test_named_account_signs_in_with_the_given_password(seeded, client, username):
    assert client.login(username=username, password=PASSWORD)
    assert not client.login(username=username, password=demo.DEFAULT_PASSWORD)


def _scope(username):
    return scope_of(User.objects.get(username=username))


def test_admin_and_office_see_everything(seeded):
    admin = _scope("admin")
    assert admin.kind == ScopeKind.ALL and admin.is_admin
    office = _scope("office")
    assert office.kind == ScopeKind.ALL and office.is_manager and not office.is_admin
    assert office.organisation_kind == "office"
    viewer = _scope("office-viewer")
    assert viewer.kind == ScopeKind.ALL and not viewer.can_write


def test_agriculture_department_manages_primary_industry_and_agricultural_programmes(seeded):
    scope = _scope("dept-agri")
    assert scope.kind == ScopeKind.DEPARTMENT and scope.is_manager
    primary = set(Category.objects.filter(code__startswith="1").values_list("pk", flat=True))
    assert scope.category_ids == primary
    programmes = set(
        SourceProgramme.objects.filter(pk__in=scope.programme_ids).values_list("code", flat=True)
    )
    assert programmes == {"agi", "arpb", "gi"}
    visible = registry_policies.brands_for_user(User.objects.get(username="dept-agri"))
    assert visible.filter(brand_type__code="gi").count() >= 20
    assert 0 < visible.count() < Brand.objects.count()
    for brand in visible.prefetch_related("sources__programme"):
        codes = {source.programme.code for source in brand.sources.all()}
        assert brand.category_id in primary or codes & {"agi", "arpb", "gi"}, brand.name


@pytest.mark.parametrize(
    "username,kind,categories,programmes",
    [
        ("dept-industry", "department", {"201", "209"}, {"srdi", "mfc"}),
        ("dept-commerce", "department", {"302"}, {"chtb", "sdtb"}),
        ("dept-culture", "department", {"301"}, {"ctdest"}),
        ("dept-housing", "department", {"210"}, set()),
    ],
)
def test_other_departments_manage_their_fields(seeded, username, kind, categories, programmes):
    scope = _scope(username)
    assert scope.kind == ScopeKind.DEPARTMENT
    codes = set(Category.objects.filter(pk__in=scope.category_ids).values_list("code", flat=True))
    assert categories <= codes
    got = set(SourceProgramme.objects.filter(pk__in=scope.programme_ids).values_list("code", flat=True))
    assert got == programmes
    assert registry_policies.brands_for_user(User.objects.get(username=username)).exists()


@pytest.mark.parametrize("username,prefix", [("city-jinan", "3701"), ("city-qingdao", "3702")])
def test_city_bureaus_see_their_city(seeded, username, prefix):
    scope = _scope(username)
    assert scope.kind == ScopeKind.REGION and scope.region_prefix == prefix
    assert scope.role == "staff" and scope.can_write
    visible = registry_policies.enterprises_for_user(User.objects.get(username=username))
    assert 10 <= visible.count() < Enterprise.objects.count()
    assert set(code[:4] for code in visible.values_list("region__code", flat=True)) == {prefix}


def test_experts_have_no_organisation_scope(seeded):
    for n in range(1, 21):
        user = User.objects.get(username=f"expert-{n:02d}")
        assert scope_of(user).kind == ScopeKind.NONE
        assert hasattr(user, "expert_profile") and not hasattr(user, "membership")


def test_enterprise_managers_run_ten_different_enterprises_with_brands_and_products(seeded):
    organisations = set()
    for n in range(1, 11):
        user = User.objects.get(username=f"ent-{n:02d}")
        scope = scope_of(user)
        assert scope.kind == ScopeKind.ORGANISATION and scope.is_manager
        organisation = Organisation.objects.get(pk=scope.organisation_id)
        assert organisation.status == Organisation.Status.ACTIVE and organisation.kind == "enterprise"
        enterprise = organisation.enterprise
        assert enterprise.brands.exists()
        assert Product.objects.filter(brand__owner=enterprise).count() >= 2
        assert registry_policies.brands_for_user(user).count() == enterprise.brands.count()
        organisations.add(organisation.pk)
    assert len(organisations) == 10
    cities = {
        Organisation.objects.get(pk=pk).region.parent.code for pk in organisations
    }  # spread over the province
    assert len(cities) >= 8


# --- --if-empty, refusals, the account table ---------------------------------------------------


def test_if_empty_is_a_no_op_on_a_seeded_database(seeded):
    counts = [m.objects.count() for m in (Organisation, User, Enterprise, Brand, Product, AuditEvent)]
    head = AuditHead.objects.get(pk=1).seq
    out = io.StringIO()
    call_command("seed_demo", "--if-empty", stdout=out)
    assert "跳过" in out.getvalue() and "skipped" in out.getvalue()
    assert [m.objects.count() for m in (Organisation, User, Enterprise, Brand, Product, AuditEvent)] == counts
    assert AuditHead.objects.get(pk=1).seq == head


def test_seeding_a_database_that_is_not_empty_is_refused(seeded):
    with pytest.raises(CommandError, match="--if-empty"):
        call_command("seed_demo", stdout=io.StringIO())


def test_a_password_that_fails_the_rules_is_refused_before_anything_is_written(seeded):
    _erase_seeded_data()
    with pytest.raises(CommandError, match="password"):
        call_command("seed_demo", "--password", "12345678", stdout=io.StringIO())
    assert not Organisation.objects.exists()


def test_demo_accounts_prints_a_bilingual_table(seeded):
    out = io.StringIO()
    call_command("demo_accounts", stdout=out)
    text = out.getvalue()
    for expected in [
        "用户名 Username",
        "角色 Role",
        "| admin ",
        "| city-jinan ",
        "农业农村厅管理员 / Agriculture department manager",
        "expert-01 … expert-20",
        "济南鲁润食品有限公司",
    ]:
        assert expected in text
    # Not the default password, so the table says where the password came from.
    assert "seed_demo --password" in text and demo.DEFAULT_PASSWORD not in text


def test_demo_accounts_without_a_demo_says_so(seeded):
    _erase_seeded_data()
    out = io.StringIO()
    call_command("demo_accounts", stdout=out)
    assert "No demo accounts" in out.getvalue()


# --- the audit trail ---------------------------------------------------------------------------


def test_audit_chain_verifies_after_seeding(seeded):
    result = audit.verify()
    assert result.ok, result.problem
    assert seeded.report.audit_events == AuditHead.objects.get(pk=1).seq - seeded.head_before
    assert seeded.report.audit_events > Enterprise.objects.count() + Brand.objects.count()


def test_audit_trail_tells_how_the_named_enterprises_came_in(seeded):
    ent = User.objects.get(username="ent-01")
    org = ent.membership.organisation
    events = AuditEvent.objects.filter(target_type="accounts.organisation", target_id=str(org.pk))
    registered = events.get(action="accounts.organisation.registered")
    approved = events.get(action="accounts.organisation.approved")
    assert registered.actor_id == ent.pk
    assert approved.actor_id == User.objects.get(username="city-jinan").pk
    assert registered.client_ip == demo.CLIENT
    brand = Brand.objects.filter(owner=org.enterprise, tier__code="member").get()
    brand_events = AuditEvent.objects.filter(target_type="registry.brand", target_id=str(brand.pk))
    assert brand_events.get(action="registry.brand.created").actor_id == ent.pk
    office = User.objects.get(username="office")
    tier_change = brand_events.get(action="registry.brand.updated")
    assert tier_change.actor_id == office.pk and "tier" in tier_change.new
    assert brand_events.filter(action="registry.brand.source_set", actor_id=office.pk).exists()


def test_every_bulk_row_has_its_creation_event(seeded):
    for action, model in [
        ("registry.enterprise.created", Enterprise),
        ("registry.brand.created", Brand),
        ("registry.product.created", Product),
    ]:
        ids = set(AuditEvent.objects.filter(action=action).values_list("target_id", flat=True))
        assert ids == {str(pk) for pk in model.objects.values_list("pk", flat=True)}, action
    sources = AuditEvent.objects.filter(action="registry.brand.source_set").count()
    assert sources == BrandSource.objects.count()
    system = AuditEvent.objects.filter(action="registry.brand.created", actor_id=None).first()
    assert system.actor_label == "系统" and system.client_ip == demo.CLIENT
