"""Shared test fixtures: a small province with a persona for every role.

Personas (``province.<name>``), in the spirit of healthchecks' alice/bob/charlie:

- ``admin``         platform admin (superuser)
- ``office``        manager at the provincial office (质量强省办); ``office_viewer`` read-only
- ``dept_agri``     manager at the agriculture department (manages 第一产业, GI and regional
                    agricultural brands)
- ``dept_commerce`` manager at the commerce department (manages 商贸服务 and 老字号)
- ``city_jinan``, ``city_qingdao``  staff at the two city bureaus; ``county_lixia`` at 历下区
- ``alice``         manager of 泉城食品 (济南市历下区), ``alice_viewer`` read-only there
- ``bob``           manager of 崂山茶业 (青岛市崂山区)
- ``carol``         manager of a pending (unapproved) enterprise in 济南
- ``expert``        a member of the expert pool, no organisation

Brands: ``alice_brand`` (processed food, Jinan), ``bob_brand`` (tea, Qingdao, from the
agricultural GI programme). Products: ``alice_product``, ``bob_product``.
"""

from __future__ import annotations

import os
from types import SimpleNamespace

import pytest
from django.conf import settings

from haopin.registry.validation import make_gtin, make_uscc

# Playwright's sync API runs an event loop in the test thread; Django then refuses ORM calls
# from that thread unless told the loop is not ours to worry about.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

PASSWORD = "correct-horse-42"


def pytest_configure(config: pytest.Config) -> None:
    # Tests render pages with the production static storage (hashed names from a manifest),
    # so collect the static files once, in the controlling process.
    if not hasattr(config, "workerinput") and not settings.DEBUG:
        from django.core.management import call_command

        call_command("collectstatic", "--noinput", verbosity=0)


@pytest.fixture(autouse=True)
def _reference_data(request):
    """Reference rows come from data migrations; a transactional test (the browser tests)
    truncates every table when it ends, so put them back for whoever runs next."""
    uses_db = request.node.get_closest_marker("django_db") or {"db", "transactional_db"} & set(
        request.fixturenames
    )
    if not uses_db:
        return
    request.getfixturevalue("db")
    restore_reference_data()


def restore_reference_data() -> None:
    """Put back what the data migrations load (the reference tables, the audit chain's head, the
    PRC holiday calendar) when a transactional test has truncated the tables."""
    import importlib

    from django.apps import apps

    from haopin.core import reference
    from haopin.core.models import AuditHead, Region
    from haopin.evaluation.models import CalendarDay

    if not Region.objects.exists():
        reference.load(apps)
        AuditHead.objects.get_or_create(pk=1, defaults={"seq": 0, "hash": "0" * 64})
    if not CalendarDay.objects.exists():
        importlib.import_module("haopin.evaluation.migrations.0002_prc_calendar").load(apps)


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    # Argon2 costs ~50 ms per hash by design; tests create dozens of users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _isolated_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "files"


@pytest.fixture(autouse=True)
def _locmem_email(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def _user(username: str, **extra):
    from haopin.accounts.models import User

    user = User(username=username, full_name=extra.pop("full_name", username), **extra)
    user.set_password(PASSWORD)
    user.save()
    return user


def _member(username: str, org, role: str = "manager"):
    from haopin.accounts.models import Membership

    user = _user(username)
    Membership.objects.create(user=user, organisation=org, role=role)
    return user


def build_province() -> SimpleNamespace:
    from haopin.accounts.models import ExpertProfile, Organisation
    from haopin.core.models import BrandType, Category, Region, SourceProgramme, Tier
    from haopin.registry.models import Brand, BrandSource, Enterprise, Product

    p = SimpleNamespace()
    region = Region.objects.get
    p.shandong, p.jinan, p.qingdao = region(code="370000"), region(code="370100"), region(code="370200")
    p.lixia, p.licheng, p.laoshan = region(code="370102"), region(code="370112"), region(code="370212")
    cat = Category.objects.get
    p.cat_primary, p.cat_tea, p.cat_food = cat(code="1"), cat(code="10501"), cat(code="20101")
    p.cat_trade = cat(code="302")
    p.pool, p.member, p.benchmark = (Tier.objects.get(code=c) for c in ("pool", "member", "benchmark"))
    p.product_type = BrandType.objects.get(code="product")
    p.gi_type = BrandType.objects.get(code="gi")
    prog = SourceProgramme.objects.get
    p.prog_agi, p.prog_arpb, p.prog_chtb = prog(code="agi"), prog(code="arpb"), prog(code="chtb")

    org = Organisation.objects.create
    K = Organisation.Kind
    p.office_org = org(name="山东省质量强省工作领导小组办公室", kind=K.OFFICE, region=p.shandong)
    p.agri_org = org(name="山东省农业农村厅", kind=K.DEPARTMENT, region=p.shandong)
    p.agri_org.managed_categories.set([p.cat_primary])
    p.agri_org.managed_programmes.set([p.prog_agi, p.prog_arpb])
    p.commerce_org = org(name="山东省商务厅", kind=K.DEPARTMENT, region=p.shandong)
    p.commerce_org.managed_categories.set([p.cat_trade])
    p.commerce_org.managed_programmes.set([p.prog_chtb])
    p.jinan_org = org(name="济南市市场监督管理局", kind=K.CITY_BUREAU, region=p.jinan)
    p.qingdao_org = org(name="青岛市市场监督管理局", kind=K.CITY_BUREAU, region=p.qingdao)
    p.lixia_org = org(name="济南市历下区市场监督管理局", kind=K.COUNTY_BUREAU, region=p.lixia)
    p.alice_org = org(name="泉城食品有限公司", kind=K.ENTERPRISE, region=p.lixia, uscc=make_uscc("370102", 1))
    p.bob_org = org(name="崂山茶业有限公司", kind=K.ENTERPRISE, region=p.laoshan, uscc=make_uscc("370212", 2))
    p.carol_org = org(
        name="历城新材料有限公司",
        kind=K.ENTERPRISE,
        region=p.licheng,
        uscc=make_uscc("370112", 3),
        status=Organisation.Status.PENDING,
    )

    p.admin = _user("admin", is_superuser=True, is_staff=True)
    p.office = _member("office", p.office_org)
    p.office_viewer = _member("office-viewer", p.office_org, "readonly")
    p.dept_agri = _member("dept-agri", p.agri_org)
    p.dept_commerce = _member("dept-commerce", p.commerce_org)
    p.city_jinan = _member("city-jinan", p.jinan_org, "staff")
    p.city_qingdao = _member("city-qingdao", p.qingdao_org, "staff")
    p.county_lixia = _member("county-lixia", p.lixia_org, "staff")
    p.alice = _member("alice", p.alice_org)
    p.alice_viewer = _member("alice-viewer", p.alice_org, "readonly")
    p.bob = _member("bob", p.bob_org)
    p.carol = _member("carol", p.carol_org)
    p.expert = _user("expert")
    profile = ExpertProfile.objects.create(user=p.expert, employer="山东大学", region=p.jinan)
    profile.specialities.set([p.cat_food])

    p.alice_ent = Enterprise.objects.create(
        uscc=p.alice_org.uscc,
        name=p.alice_org.name,
        region=p.lixia,
        organisation=p.alice_org,
        legal_representative="李明",
        industry_code="C14",
        size=Enterprise.Size.MEDIUM,
    )
    p.bob_ent = Enterprise.objects.create(
        uscc=p.bob_org.uscc,
        name=p.bob_org.name,
        region=p.laoshan,
        organisation=p.bob_org,
        legal_representative="王海",
        industry_code="C15",
    )
    p.carol_ent = Enterprise.objects.create(
        uscc=p.carol_org.uscc,
        name=p.carol_org.name,
        region=p.licheng,
        organisation=p.carol_org,
    )
    p.alice_brand = Brand.objects.create(
        name="泉城",
        owner=p.alice_ent,
        brand_type=p.product_type,
        category=p.cat_food,
        region=p.lixia,
        tier=p.pool,
    )
    p.bob_brand = Brand.objects.create(
        name="崂山绿茶",
        owner=p.bob_ent,
        brand_type=p.gi_type,
        category=p.cat_tea,
        region=p.laoshan,
        tier=p.member,
    )
    BrandSource.objects.create(
        brand=p.bob_brand, programme=p.prog_agi, certificate_number="AGI01234", year=2012
    )
    p.alice_product = Product.objects.create(
        brand=p.alice_brand,
        name="泉城酥锅",
        specification="500g",
        standard_codes=["GB 2726-2016"],
        gtin=make_gtin("6901234", 1),
    )
    p.bob_product = Product.objects.create(
        brand=p.bob_brand,
        name="崂山绿茶",
        specification="250g 特级",
        standard_codes=["GB/T 14456.1-2017"],
        gtin=make_gtin("6901234", 2),
    )
    return p


@pytest.fixture
def province(db) -> SimpleNamespace:
    return build_province()


@pytest.fixture
def as_user(client):
    """Log the test client in as a persona: ``as_user(province.alice)``."""

    def login(user):
        client.force_login(user)
        return client

    return login
