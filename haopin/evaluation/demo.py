"""The demo of standards and evaluation (issue 3): rule sets, four batches and their certificates.

``seed_demo`` builds the demo province first (``core.demo``); ``seed()`` here then runs the
programme on it the way people would, through the domain services only, so that every decision
has its ``Decision`` row, its notifications and its audit event:

- **Standards and rule sets.** A handful of standards in the catalogue, among them the
  好品山东 group standards (T/SDAQI …, one superseded by its revision). The office builds the
  model rule set in the workspace (``standards.defaults.fill_rule_set``), exports it to Excel
  and imports it, adapted, for the other categories and brand types — product brands in seven
  level-2 categories, enterprise brands in three, geographical indications in one — and
  publishes them. Processed food has three versions (the first published and later retired,
  the second published, the third a draft); enterprise food brands and GIs have a draft second
  version.
- **第一批** (three years before the seeding day, closed) and **第二批** (last year, published):
  applications from the demo's enterprises (ent-01 … ent-10 and other enterprises and GI
  associations, which register their platform accounts first and are approved by their city
  bureau or the office), recommended by their city bureau or the department in charge,
  qualified (the office checks the manual criteria), credit-checked, drawn expert panels of five
  with one reserve (the draw avoids the applicant's employees and city), scored by the experts
  with comments (an outlying sheet among them), aggregated, consulted, approved, noticed (one
  objection upheld, one dismissed), published with certificates. Some applications fall on the
  way: ineligible at the qualification review, under the pass line, withdrawn, removed after an
  objection. Certificates were later suspended (one restored again), revoked and withdrawn; the
  first batch's certificates run out 19 days after the seeding day, so the 30-day expiry
  reminders are due (``manage.py tick`` sends them), and one of them has already expired.
- **第三批** (this year, in review): applications at every stage a reviewing batch holds at
  once — recommended, qualified, checked, in expert review (panels drawn; some experts have not
  declared yet, expert-01 among them in every panel it sits on, some sheets are drafts, some
  submitted, one expert declared a conflict and a reserve took the seat, one raised a veto item
  the office still has to verify), reviewed, consulted, approved, returned with a deadline,
  rejected and withdrawn.
- **第四批** (this year, open for applications around the seeding day): drafts (ent-01's is
  half filled, so its checklist shows what is missing; ent-02's was started by the Jinan bureau
  as a recommendation for ent-02 to complete), applications waiting for the recommendation of
  city-jinan, city-qingdao and dept-agri, one returned by the Qingdao bureau with a deadline, one
  recommended and waiting for the office, one withdrawn.

Why two batches in progress. A batch cannot be open for applications and in expert review at
once: ``application_start`` and submission need the batch open and today inside its window, while
drawing panels and aggregating scores need the batch closed for applications (``reviewing``).
第三批 shows the review, 第四批 lets enterprises apply. Neither can hold an application on public
notice: ``batch_open_notice`` needs every application of the batch decided first (the two
completed batches show the notice and its objections).

Dates. Everything is dated relative to the seeding day (``today``): the batches' years, windows
and stages, the decisions, draws, declarations, notices, objections, certificates and their
validity, the notifications. The platform stamps every write with the time it is made and checks
dates against today (an application window must be open, a correction deadline must lie ahead,
a notice starts today or later), so the story is played at the real time and moved to its own
dates afterwards: ``_Clock`` notes the rows each step created and ``_Clock.apply`` sets their
timestamps, and the dates of batches, notices and certificates, with ``QuerySet.update`` — never
on audit events. **The audit trail therefore truthfully shows when the demo was seeded**: every
event of the demo carries the seeding time and ``manage.py seed_demo`` as its client, and the
values it records (a notice's period, a certificate's validity) are those the services computed
on the seeding day. Expert profiles are dated to before the first draw (a draw's pool is the
experts who had joined it by then), so that every draw replays (``experts.draw_replay``).

Determinism. Choices come from ``random.Random(seed)`` over rows read in a fixed order, draws use
fixed seeds (as the office would use a lottery's numbers), so every run gives the same
applications, statuses, draws and scores; what changes with the seeding day are the dates and the
years (so the numbers SQ2023…, HP2026… carry the years of the day the demo was seeded; a
certificate number carries the year it was issued, which is the seeding year).

Cost: about 3 s on SQLite (``seed_demo`` prints it); the experts' and enterprises' new accounts
reuse the password hash the province's accounts were given.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import random
import secrets
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, cast

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Replace
from django.test.utils import override_settings
from django.utils import timezone
from openpyxl import load_workbook

from haopin.accounts import services as accounts
from haopin.accounts.models import ExpertProfile, Organisation, User
from haopin.certificates import services as certificates
from haopin.certificates.models import Certificate, CertificateEvent
from haopin.core import context
from haopin.core.errors import ConflictError
from haopin.core.formatting import cn_date
from haopin.core.models import AuditHead, BrandType, Category, Region
from haopin.evaluation import calendar, experts, notices, scoring, services
from haopin.evaluation.models import (
    Application,
    Assignment,
    Batch,
    CriterionCheck,
    Decision,
    Objection,
    PanelDraw,
    PublicNotice,
    Score,
    VetoFinding,
)
from haopin.notifications.models import Notification
from haopin.notifications.services import notification_mark_read
from haopin.registry.models import Brand, Enterprise
from haopin.registry.validation import make_uscc
from haopin.standards import defaults, excel
from haopin.standards import services as standards
from haopin.standards.models import Criterion, RuleSet, Standard

CLIENT = "manage.py seed_demo"
DEFAULT_SEED = 2021
PANEL_SIZE = 5
# The completed batches had panels of three: each sheet costs three services (declaration,
# scores, submission), and the history they show is the same.
EARLIER_PANEL_SIZE = 3
RESERVE_SIZE = 1
# Applications of at least this quality (the experts' view, 0–1) are meant to pass the pass line.
PASS_QUALITY = 0.75
# The province has expert-01 … expert-20 and ent-01 … ent-10; the accounts this demo adds follow.
FIRST_EXTRA_EXPERT = 21
FIRST_EXTRA_ENTERPRISE = 11
# Applicants must have been registered in Shandong for five years (the rule sets' criterion Z1)
# when the window closes; the demo keeps a year's margin because the window is moved to its
# story dates after the qualification review computed the years.
YEARS_MARGIN = 6
CENT = Decimal("0.01")

# --- the catalogue ------------------------------------------------------------------------------

# code, title, issuer, published, effective, categories (level-2 codes; "" for all), 好品山东
STANDARDS = [
    ("GB/T 19001-2016", "质量管理体系 要求", "国家市场监督管理总局、国家标准化管理委员会",
     "2016-12-30", "2017-07-01", "", False),
    ("GB/T 29185-2012", "品牌 术语", "国家质量监督检验检疫总局、国家标准化管理委员会",
     "2012-12-31", "2013-06-01", "", False),
    ("GB/T 29187-2012", "品牌评价 品牌价值评价要求", "国家质量监督检验检疫总局、国家标准化管理委员会",
     "2012-12-31", "2013-06-01", "", False),
    ("GB/T 36680-2018", "品牌 分类", "国家市场监督管理总局、国家标准化管理委员会",
     "2018-09-17", "2019-04-01", "", False),
    ("GB/T 18186-2000", "酿造酱油", "国家质量技术监督局", "2000-09-26", "2001-09-01", "201", False),
    ("GB/T 10781.1-2021", "白酒质量要求 第1部分：浓香型白酒", "国家市场监督管理总局、国家标准化管理委员会",
     "2021-03-09", "2022-04-01", "201", False),
    ("GB/T 9139-2008", "液压挖掘机 技术条件", "国家质量监督检验检疫总局、国家标准化管理委员会",
     "2008-06-30", "2009-01-01", "206", False),
    ("T/SDAQI 001-2021", "“好品山东”品牌评价通则", "山东省质量评价协会", "2021-11-15", "2021-12-01",
     "", True),
    ("T/SDAQI 001-2024", "“好品山东”品牌评价通则", "山东省质量评价协会", "2024-03-20", "2024-04-01",
     "", True),
    ("T/SDAQI 002-2022", "“好品山东”产品品牌评价规范", "山东省质量评价协会", "2022-05-10", "2022-06-01",
     "201 203 204 206 208 209", True),
    ("T/SDAQI 003-2022", "“好品山东”地理标志品牌评价规范", "山东省质量评价协会", "2022-05-10", "2022-06-01",
     "101 102 103 104 105", True),
    ("T/SDAQI 005-2023", "“好品山东”标识使用管理规范", "山东省质量评价协会", "2023-02-28", "2023-03-15",
     "", True),
]  # fmt: skip
SUPERSEDED = ("T/SDAQI 001-2021", "T/SDAQI 001-2024")

# --- rule sets ----------------------------------------------------------------------------------

# (brand type, level-2 category, title, pass line)
RULE_SETS = [
    ("product", "201", "食品饮料产品品牌评价细则", "80"),
    ("product", "203", "轻工家居产品品牌评价细则", "80"),
    ("product", "204", "化工及新材料产品品牌评价细则", "80"),
    ("product", "206", "装备制造产品品牌评价细则", "80"),
    ("product", "208", "电子信息产品品牌评价细则", "80"),
    ("product", "209", "冶金建材产品品牌评价细则", "80"),
    ("product", "105", "茶叶及特色农产品品牌评价细则", "78"),
    ("enterprise", "201", "食品饮料企业品牌评价细则", "82"),
    ("enterprise", "203", "轻工家居企业品牌评价细则", "82"),
    ("gi", "102", "果蔬地理标志品牌评价细则", "78"),
]
# What differs for enterprise brands and geographical indications from the model (an Excel
# sheet edited by the office): guidance per indicator, and for GIs the eligibility criteria.
ENTERPRISE_GUIDANCE = {
    "1.2": "主导产品质量指标达到国内或国际先进水平，近三年监督抽查全部合格。",
    "3.1": "企业品牌在国内外市场的知名度和影响力，获得的品牌荣誉。",
    "4.1": "企业营业收入、利润及其增长，纳税和带动就业情况。",
}
GI_GUIDANCE = {
    "1.1": "地理标志产品生产技术规程完备，质量追溯体系覆盖主要生产经营主体。",
    "1.2": "产品特色品质指标稳定，近三年监督抽查全部合格。",
    "2.1": "品种选育、栽培技术和精深加工的研发投入及合作平台。",
    "4.1": "产业年产值及其增长，带动农户增收情况。",
    "4.2": "产品在国内外市场的占有率和价格溢价。",
}
GI_CRITERIA = [
    ("Z1", "地理标志管理机构在山东省内依法登记满 5 年。", "years_registered", "ge", "5", ""),
    ("Z2", "地理标志产品上年度产值不低于 1 亿元。", "revenue", "ge", "10000", ""),
    ("Z3", "近三年无严重失信记录。", "credit_clean", "true", "", ""),
    ("Z4", "近三年无产品质量监督抽查不合格记录。", "inspection_clean", "true", "", ""),
    ("Z5", "已获地理标志证明商标注册或地理标志产品保护。", "", "", "", ""),
    ("Z6", "产地范围明确，授权使用管理制度健全。", "", "", "", ""),
]

# --- the expert pool beyond expert-01 … expert-20 -----------------------------------------------

# Panels of five with a reserve need at least six experts per category besides those the draw
# avoids (same city, employer); these join the pool for the categories the batches evaluate.
EXTRA_EXPERTS = [
    ("山东省食品发酵工业研究设计院", "370102", ("201",)),
    ("青岛大学", "370202", ("201", "203")),
    ("山东农业大学食品科学与工程学院", "370902", ("201", "105")),
    ("烟台大学化学化工学院", "370613", ("201", "204")),
    ("山东省产品质量检验研究院", "370102", ("201", "206")),
    ("潍坊学院", "370705", ("201", "102")),
    ("临沂大学", "371302", ("201",)),
    ("德州学院", "371402", ("201",)),
    ("曲阜师范大学", "370881", ("201",)),
    ("山东省农业机械科学研究院", "370112", ("206",)),
    ("山东科技大学", "370211", ("206", "209")),
    ("济宁学院", "370811", ("206",)),
    ("山东理工大学机械工程学院", "370303", ("206", "204")),
    ("山东大学机械工程学院", "370102", ("206",)),
    ("滨州学院", "371602", ("206", "203")),
    ("山东省果茶技术推广站", "370902", ("105", "102")),
    ("日照市茶叶科学研究所", "371102", ("105",)),
    ("山东中医药大学药学院", "370113", ("105",)),
    ("菏泽学院", "371702", ("105", "102")),
    ("山东省果树研究所", "370911", ("102",)),
    ("山东省农业科学院蔬菜研究所", "370112", ("102",)),
    ("鲁东大学", "370602", ("102", "105")),
    ("山东省化工研究院", "370102", ("204",)),
    ("中国石油大学（华东）", "370211", ("204",)),
    ("淄博市产品质量检验研究院", "370303", ("203",)),
    ("青岛科技大学高分子学院", "370212", ("203", "204")),
    ("山东省冶金科学研究院", "370102", ("209",)),
    ("枣庄学院", "370402", ("209",)),
    ("聊城大学材料科学与工程学院", "371502", ("203",)),
]
EXPERT_SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡"
EXPERT_GIVEN = "建国华明伟强军平海东志红丽芳静敏燕霞磊洋勇杰涛斌超鹏辉刚峰波宁林文玉春秋雪梅兰英庆德福荣"

# --- the experts' comments per second-level indicator: (good, fair, weak) ----------------------

COMMENTS = {
    "1.1": ("质量管理体系健全，通过 GB/T 19001 认证并有效运行，首席质量官制度落实到位。",
            "已建立质量管理体系并通过认证，过程控制记录较完整，持续改进机制有待加强。",
            "质量管理体系文件不够完整，内审和管理评审记录不足。"),
    "1.2": ("主要质量指标优于国家标准，近三年监督抽查全部合格，质量投诉极少。",
            "主要质量指标符合国家标准，近三年抽查合格，个别批次质量有波动。",
            "质量指标与国内先进水平差距较大，质量稳定性有待提升。"),
    "1.3": ("主导制定行业标准，执行的企业标准高于国家标准并已公开声明。",
            "参与制定团体标准，执行标准与国家标准持平。",
            "标准化工作基础薄弱，未参与标准制定。"),
    "2.1": ("研发投入占比高且逐年增长，建有省级以上研发平台。",
            "研发投入符合要求，研发平台建设尚在推进。",
            "研发投入占比偏低，研发机构不健全。"),
    "2.2": ("有效发明专利较多，获省部级科技奖励，成果转化效益显著。",
            "拥有一定数量的有效专利，成果转化情况一般。",
            "创新成果较少，专利以实用新型为主。"),
    "2.3": ("建成数字化车间，生产经营数据贯通，质量追溯覆盖全流程。",
            "关键工序实现数字化管控，信息系统集成度一般。",
            "数字化转型刚起步，信息化应用零散。"),
    "3.1": ("品牌在国内市场知名度高，获多项省级以上品牌荣誉，海外市场有一定影响。",
            "品牌在省内有较高知名度，省外市场正在拓展。",
            "品牌知名度主要局限于本地市场。"),
    "3.2": ("用户满意度调查结果优秀，投诉处理及时，口碑良好。",
            "用户满意度良好，投诉处理机制基本健全。",
            "用户评价一般，投诉处理记录不完整。"),
    "3.3": ("品牌战略清晰，商标国内外注册布局完整，品牌运营团队专业。",
            "有品牌规划和商标保护措施，品牌运营投入一般。",
            "品牌管理制度不健全，商标保护意识有待加强。"),
    "4.1": ("营业收入和利润连续增长，纳税贡献突出。",
            "营业收入稳定，盈利能力处于行业平均水平。",
            "经营效益波动较大，利润率偏低。"),
    "4.2": ("细分市场占有率居全国前列、全省领先。",
            "细分市场占有率居全省前列。",
            "市场占有率不高，竞争优势不明显。"),
    "5.1": ("单位产值能耗、水耗显著低于行业平均，资源综合利用水平高。",
            "能耗水耗达到行业平均水平，节能改造持续推进。",
            "资源消耗偏高，节能措施有待落实。"),
    "5.2": ("获评省级绿色工厂，污染物排放稳定达标。",
            "污染物排放达标，环境管理体系运行正常。",
            "环保设施运行记录不完整，绿色发展举措较少。"),
    "6.1": ("信用记录良好，纳税信用 A 级，无失信行为。",
            "信用记录良好，无严重失信行为。",
            "存在轻微行政处罚记录，信用管理需加强。"),
    "6.2": ("定期发布社会责任报告，安全生产和员工权益保障到位，积极参与公益。",
            "履行社会责任情况良好，公益参与一般。",
            "社会责任信息披露不足。"),
}  # fmt: skip

SIZE_REVENUE = {"large": (150_000, 600_000), "medium": (20_000, 90_000), "small": (4_000, 16_000)}
SIZE_REVENUE["micro"] = (2_600, 5_000)
SIZE_STAFF = {"large": (2_000, 9_000), "medium": (300, 1_500), "small": (60, 280), "micro": (15, 55)}
GI_REVENUE = (30_000, 180_000)


# --- the story's applications ---------------------------------------------------------------------


@dataclass(frozen=True)
class Pick:
    """Which brand an application is for: a named account's brand of a type, a brand by name,
    or one found among the province's brands of a level-2 category, type and tier."""

    account: str = ""  # ent-01 …
    name: str = ""  # a collective brand's public name
    category: str = ""  # level-2 code, for a found brand
    brand_type: str = "product"
    tier: str = "pool"
    city: str = ""  # GB/T 2260 city prefix the owner must be in ("" for anywhere)
    avoid_cities: tuple[str, ...] = ()


@dataclass
class Case:
    """One application of the story, with what the seeding needs to play it."""

    key: str
    pick: Pick
    quality: float = 0.85
    brand: Any = None
    manager: Any = None
    recommender: Any = None
    application: Any = None
    rule_set: Any = None


NAMED_CITIES = {"3701": "city-jinan", "3702": "city-qingdao"}

# Batch 1 (closed): a5 is removed from the list after an objection is upheld.
FIRST = [
    ("a1", Pick(account="ent-01", brand_type="enterprise", tier="member"), 0.86),
    ("a2", Pick(account="ent-10", tier="member"), 0.91),
    ("a3", Pick(account="ent-06", brand_type="enterprise", tier="member"), 0.9),
    ("a4", Pick(category="201", tier="member", avoid_cities=("3701", "3702")), 0.88),
    ("a5", Pick(category="201", tier="pool", avoid_cities=("3701",)), 0.87),
]
# Batch 2 (published): b5 scores under the pass line.
SECOND = [
    ("b1", Pick(account="ent-04", tier="member"), 0.89),
    ("b2", Pick(account="ent-03", brand_type="enterprise", tier="benchmark"), 0.84),
    ("b3", Pick(category="102", brand_type="gi", tier="benchmark"), 0.88),
    ("b4", Pick(category="201", tier="member", avoid_cities=("3701",)), 0.91),
    ("b5", Pick(category="201", tier="pool", city="3702"), 0.68),
]
# Batch 3 (in review): c1–c2 in expert review (metallurgy, expert-01's field; the owners are
# away from the cities of the field's experts, so that every expert of the field sits on every
# panel), c3–c5 reviewed, consulted and approved, then one application at each earlier stage.
CITIES_OF_209_EXPERTS = ("3701", "3702", "3704")
THIRD = [
    ("c1", Pick(category="209", avoid_cities=CITIES_OF_209_EXPERTS), 0.86),
    ("c2", Pick(category="209", avoid_cities=CITIES_OF_209_EXPERTS), 0.82),
    ("c3", Pick(category="201", avoid_cities=("3701", "3702")), 0.85),
    ("c4", Pick(category="201", avoid_cities=("3701", "3702")), 0.84),
    ("c5", Pick(category="201", city="3701"), 0.92),
    ("c6", Pick(account="ent-08"), 0.85),
    ("c7", Pick(category="204", avoid_cities=("3701", "3702")), 0.83),
    ("c8", Pick(category="203", avoid_cities=("3701", "3702")), 0.8),
    ("c9", Pick(category="208", avoid_cities=("3701", "3702")), 0.82),
]
# Batch 4 (open for applications): d6 is returned by the Qingdao bureau, d7 recommended.
FOURTH = [
    ("d1", Pick(account="ent-01"), 0.86),
    ("d2", Pick(account="ent-02"), 0.84),
    ("d3", Pick(category="201", city="3701"), 0.83),
    ("d4", Pick(account="ent-03"), 0.87),
    ("d5", Pick(category="102", brand_type="gi"), 0.85),
    ("d6", Pick(category="208", city="3702"), 0.8),
    ("d7", Pick(category="206", city="3701"), 0.84),
]


@dataclass
class EvaluationReport:
    standards: int = 0
    rule_sets: int = 0
    batches: int = 0
    applications: int = 0
    certificates: int = 0
    experts: int = 0
    accounts: int = 0
    audit_events: int = 0
    seconds: float = 0.0


# --- moving the story to its dates ---------------------------------------------------------------


class _Clock:
    """What each step of the story created, so that its timestamps can be set to the step's date.

    ``at(when)`` brackets a step; the rows of the tracked models whose ids appeared during it get
    ``when`` in their creation timestamps (the platform stamped them with the real time). Fields
    that later writes change (an application's submission time, an expert's declaration, a
    certificate's validity, …) are set explicitly with ``set``. ``apply`` writes everything at
    the end with one ``UPDATE`` per model and field (several when a CASE grows long).
    """

    TRACKED: list[tuple[Any, tuple[str, ...]]] = [
        (Standard, ("created_at", "updated_at")),
        (RuleSet, ("created_at", "updated_at")),
        (Batch, ("created_at", "updated_at")),
        (Application, ("created_at", "updated_at")),
        (Decision, ("created_at",)),
        (CriterionCheck, ("checked_at",)),
        (VetoFinding, ("created_at",)),
        (PanelDraw, ("created_at",)),
        (Assignment, ("created_at", "updated_at")),
        (Score, ("updated_at",)),
        (PublicNotice, ("created_at",)),
        (Objection, ("created_at",)),
        (Certificate, ("created_at", "updated_at")),
        (CertificateEvent, ("created_at",)),
        (Notification, ("created_at",)),
        (ExpertProfile, ("created_at", "updated_at")),
        (Organisation, ("created_at", "updated_at")),
    ]

    def __init__(self) -> None:
        self.steps: list[tuple[tuple[int, ...], tuple[int, ...], dt.datetime]] = []
        self.explicit: dict[Any, dict[int, dict[str, Any]]] = defaultdict(lambda: defaultdict(dict))
        self.heads = self._heads()

    def _heads(self) -> tuple[int, ...]:
        parts = [
            f"(SELECT COALESCE(MAX({m._meta.pk.column}), 0) FROM {m._meta.db_table})" for m, _ in self.TRACKED
        ]
        with connection.cursor() as cursor:
            cursor.execute("SELECT " + ", ".join(parts))
            return tuple(int(v) for v in cursor.fetchone())

    @contextmanager
    def at(self, when: dt.datetime) -> Iterator[None]:
        before = self.heads
        yield
        self.heads = self._heads()
        if self.heads != before:
            self.steps.append((before, self.heads, when))

    def set(self, obj: Any, **values: Any) -> None:
        self.explicit[type(obj)][obj.pk].update(values)

    def apply(self) -> None:
        # One statement per table and set of columns, executed for many parameter rows: the story
        # has hundreds of steps, and ORM updates (or CASE expressions) compile each one anew.
        quote = connection.ops.quote_name
        with connection.cursor() as cursor:
            for index, (model, fields) in enumerate(self.TRACKED):
                params = [
                    (*(self._db(model, name, when) for name in fields), lo[index], hi[index])
                    for lo, hi, when in self.steps
                    if hi[index] > lo[index]
                ]
                if params:
                    columns = ", ".join(f"{quote(model._meta.get_field(n).column)} = %s" for n in fields)
                    pk = quote(model._meta.pk.column)
                    cursor.executemany(
                        f"UPDATE {quote(model._meta.db_table)} SET {columns} WHERE {pk} > %s AND {pk} <= %s",
                        params,
                    )
            for model, rows in self.explicit.items():
                by_fields: dict[tuple[str, ...], list[tuple[Any, ...]]] = defaultdict(list)
                for pk_value, values in rows.items():
                    names = tuple(sorted(values))
                    by_fields[names].append((*(self._db(model, n, values[n]) for n in names), pk_value))
                for names, params in by_fields.items():
                    columns = ", ".join(f"{quote(model._meta.get_field(n).column)} = %s" for n in names)
                    cursor.executemany(
                        f"UPDATE {quote(model._meta.db_table)} SET {columns} "
                        f"WHERE {quote(model._meta.pk.column)} = %s",
                        params,
                    )

    @staticmethod
    def _db(model: Any, name: str, value: Any) -> Any:
        return model._meta.get_field(name).get_db_prep_value(value, connection)


def _moment(day: dt.date, hour: int = 9, minute: int = 30) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _working_on_or_after(day: dt.date) -> dt.date:
    return calendar.next_working_day(day)


# --- the seeding ------------------------------------------------------------------------------------


def seed(*, seed: int = DEFAULT_SEED, today: dt.date | None = None, progress: Any = None) -> EvaluationReport:
    """Play the standards and evaluation story on a freshly seeded demo province (see the module
    doc). Runs in one transaction; refuses a database that already holds batches."""
    started = time.perf_counter()
    say = progress or (lambda message: None)
    with context.bind(client_ip=CLIENT), transaction.atomic():
        if Batch.objects.exists() or RuleSet.objects.exists():
            raise ConflictError("数据库中已有评价数据，评价演示数据只能写入新生成的演示省份。")
        if not User.objects.filter(username="office").exists():
            raise ConflictError("请先生成演示省份（seed_demo），再生成评价演示数据。")
        head_before = AuditHead.objects.filter(pk=1).values_list("seq", flat=True).first() or 0
        story = _Story(seed=seed, today=today or timezone.localdate(), say=say)
        # The new accounts' passwords are replaced by the province's shared hash at the end;
        # a cheap hasher meanwhile (see core.demo.seed).
        with override_settings(PASSWORD_HASHERS=[SEED_HASHER, *settings.PASSWORD_HASHERS]):
            story.play()
        story.finish()
        report = story.report
        report.audit_events = AuditHead.objects.values_list("seq", flat=True).get(pk=1) - head_before
    report.seconds = time.perf_counter() - started
    return report


SEED_HASHER = "django.contrib.auth.hashers.MD5PasswordHasher"


class _Story:
    def __init__(self, *, seed: int, today: dt.date, say: Callable[[str], None]) -> None:
        self.rng = random.Random(seed)
        self.today = today
        self.say = say
        self.clock = _Clock()
        self.report = EvaluationReport()
        self.users: dict[str, Any] = {
            u.username: u
            for u in User.objects.filter(
                username__in=[
                    "office", "dept-agri", "dept-industry", "city-jinan", "city-qingdao",
                    *[f"ent-{n:02d}" for n in range(1, 11)],
                ]
            )
        }  # fmt: skip
        self.office = self.users["office"]
        self.brand_types = {b.code: b for b in BrandType.objects.all()}
        self.categories = {c.code: c for c in Category.objects.all()}
        self.rule_sets: dict[tuple[str, str], RuleSet] = {}
        self.used_brands: set[int] = set()
        self.new_accounts: list[str] = []
        self.serial = 0
        self.pool_joined = _moment(_add_years(today, -4), 10)
        # Story days of the batches: the first batch is published so that its certificates
        # (three years) run out 19 days after the seeding day.
        self.first_published = _add_years(today + dt.timedelta(days=20), -3)
        self.second_published = today - dt.timedelta(days=235)

    # -- helpers --------------------------------------------------------------------------------
    def at(self, day: dt.date, hour: int = 9, minute: int = 30) -> Any:
        return self.clock.at(_moment(day, hour, minute))

    def user(self, username: str) -> Any:
        if username not in self.users:
            self.users[username] = User.objects.get(username=username)
        return self.users[username]

    def fresh(self, username: str) -> Any:
        """The user again from the database: its scope is computed once per object."""
        self.users[username] = User.objects.get(username=username)
        return self.users[username]

    # -- the whole story ------------------------------------------------------------------------
    def play(self) -> None:
        self.catalogue()
        self.build_rule_sets()
        self.expert_pool()
        self.say(
            f"标准与评价细则 / standards and rule sets: {self.report.standards} 项标准，"
            f"{self.report.rule_sets} 套细则；专家库 {self.report.experts} 位专家"
        )
        self.first_batch()
        self.revise_food()
        self.second_batch()
        # Everyone has read what the completed batches told them long ago.
        with self.clock.at(_moment(self.today - dt.timedelta(days=120))):
            unread = Notification.objects.filter(read_at__isnull=True).values("user_id")
            for user in User.objects.filter(pk__in=unread).order_by("pk"):
                notification_mark_read(user=user)
        self.read_up_to = Notification.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        self.third_batch()
        self.fourth_batch()
        self.report.batches = Batch.objects.count()
        self.report.applications = Application.objects.count()
        self.report.certificates = Certificate.objects.count()

    def finish(self) -> None:
        """Date the story, give the new accounts the province's password hash."""
        self.clock.apply()
        self.date_derived()
        Notification.objects.filter(pk__lte=self.read_up_to, read_at__isnull=False).update(
            read_at=F("created_at") + dt.timedelta(hours=20)
        )
        shared = User.objects.filter(username="office").values_list("password", flat=True).get()
        User.objects.filter(username__in=self.new_accounts).update(password=shared)
        self.report.accounts = len(self.new_accounts)

    # -- the catalogue ----------------------------------------------------------------------------
    def catalogue(self) -> None:
        created: dict[str, Standard] = {}
        for code, title, issuer, published, effective, categories, haopin in STANDARDS:
            day = dt.date.fromisoformat(effective)
            with self.at(max(day, _add_years(self.today, -4))):
                created[code] = standards.standard_create(
                    actor=self.office,
                    code=code,
                    title=title,
                    categories=[self.categories[c] for c in categories.split()],
                    issuer=issuer,
                    published_on=dt.date.fromisoformat(published),
                    effective_on=day,
                    is_haopin=haopin,
                )
        old, new = (created[c] for c in SUPERSEDED)
        with self.at(cast(dt.date, new.effective_on)):  # created above with a date
            standards.standard_update(
                actor=self.office,
                standard=old,
                status=Standard.Status.SUPERSEDED,
                withdrawn_on=new.effective_on,
                replaced_by=new,
            )
        self.report.standards = len(created)

    # -- rule sets ----------------------------------------------------------------------------------
    def build_rule_sets(self) -> None:
        office = self.office
        day = self.first_published - dt.timedelta(days=260)
        model_type, model_category, model_title, model_pass = RULE_SETS[0]
        with self.at(day, 10):
            model = standards.ruleset_create(
                actor=office,
                category=self.categories[model_category],
                brand_type=self.brand_types[model_type],
                title=model_title,
                pass_line=Decimal(model_pass),
                note="依据 T/SDAQI 001-2021《“好品山东”品牌评价通则》编制。",
            )
            defaults.fill_rule_set(actor=office, rule_set=model)
        model_book = excel.export(model)
        workbooks = {kind: _variant(model_book, kind) for kind in ("product", "enterprise", "gi")}
        for position, (brand_type, category, title, pass_line) in enumerate(RULE_SETS):
            when = day + dt.timedelta(days=2 + position)
            if position:
                with self.at(when, 10):
                    rule_set = standards.ruleset_create(
                        actor=office,
                        category=self.categories[category],
                        brand_type=self.brand_types[brand_type],
                        title=title,
                        pass_line=Decimal(pass_line),
                        note="依据 T/SDAQI 001-2021《“好品山东”品牌评价通则》编制。",
                    )
                    excel.ruleset_import(
                        actor=office, rule_set=rule_set, upload=io.BytesIO(workbooks[brand_type])
                    )
            else:
                rule_set = model
            with self.at(when + dt.timedelta(days=14), 15):
                standards.ruleset_publish(actor=office, rule_set=rule_set)
            self.clock.set(rule_set, published_at=_moment(when + dt.timedelta(days=14), 15))
            self.rule_sets[(brand_type, category)] = rule_set
        self.report.rule_sets = RuleSet.objects.count()

    def revise_food(self) -> None:
        """Processed food was revised before the second batch (version 2 asks more of food-safety
        traceability; version 1, which the first batch applied, is retired); drafts of the next
        versions of three rule sets are being discussed now."""
        office = self.office
        revised = self.second_published - dt.timedelta(days=330)
        with self.at(revised, 10):
            first = self.rule_sets[("product", "201")]
            second = standards.ruleset_new_version(actor=office, rule_set=first)
            digital = second.indicators.get(code="2.3")
            standards.ruleset_item_update(
                actor=office,
                item=digital,
                guidance="智能制造、工业互联网应用水平，食品安全追溯体系覆盖原料到销售全过程。",
            )
            standards.ruleset_update(
                actor=office, rule_set=second, note="第2版：数字化转型指标增加食品安全全程追溯要求。"
            )
        with self.at(revised + dt.timedelta(days=10), 15):
            standards.ruleset_publish(actor=office, rule_set=second)
            standards.ruleset_retire(actor=office, rule_set=first)
        self.clock.set(second, published_at=_moment(revised + dt.timedelta(days=10), 15))
        self.rule_sets[("product", "201")] = second
        # Drafts of the next versions, being discussed now.
        for key, code, guidance, note in [
            (("product", "201"), "5.2", "获评绿色工厂或绿色食品认证，包装减量和可回收情况。",
             "第3版（征求意见稿）：绿色发展指标增加包装减量要求。"),
            (("enterprise", "201"), "6.2", "发布社会责任报告，参与乡村振兴和公益慈善情况。",
             "第2版（征求意见稿）：社会责任指标增加乡村振兴内容。"),
            (("gi", "102"), "4.2", "产品在国内外市场的占有率、价格溢价和电商销售情况。",
             "第2版（征求意见稿）：市场占有率指标增加电商渠道。"),
        ]:  # fmt: skip
            with self.at(self.today - dt.timedelta(days=12), 11):
                draft = standards.ruleset_new_version(actor=office, rule_set=self.rule_sets[key])
                standards.ruleset_item_update(
                    actor=office, item=draft.indicators.get(code=code), guidance=guidance
                )
                standards.ruleset_update(actor=office, rule_set=draft, note=note)
        self.report.rule_sets = RuleSet.objects.count()

    # -- the expert pool ----------------------------------------------------------------------------
    def expert_pool(self) -> None:
        # The province's experts: those with an id up to the largest now (ids need not start at 1).
        existing = max(ExpertProfile.objects.values_list("pk", flat=True), default=0)
        lab = dict(Organisation.objects.values_list("name", "uscc"))
        for index, (employer, region, specialities) in enumerate(EXTRA_EXPERTS, start=FIRST_EXTRA_EXPERT):
            username = f"expert-{index:02d}"
            name = self.rng.choice(EXPERT_SURNAMES) + "".join(
                self.rng.choice(EXPERT_GIVEN) for _ in range(self.rng.choice((1, 2, 2)))
            )
            uscc = lab.get(employer) or make_uscc(region, self._serial(), authority="1", kind="2")
            with self.clock.at(self.pool_joined + dt.timedelta(days=index)):
                profile = accounts.expert_create(
                    actor=self.office,
                    username=username,
                    password=secrets.token_urlsafe(12),
                    full_name=name,
                    employer=employer,
                    employer_uscc=uscc,
                    region=Region.objects.get(code=region),
                    specialities=[self.categories[c] for c in specialities],
                    title=self.rng.choice(
                        [ExpertProfile.Title.SENIOR] * 3 + [ExpertProfile.Title.ASSOCIATE] * 2
                    ),
                    phone=f"1{self.rng.choice('35789')}{self.rng.randrange(10**9):09d}",
                    check_password=False,
                )
            self.users[username] = profile.user
            self.new_accounts.append(username)
        # The province's own experts joined the pool before any draw (a draw's pool is the
        # experts who had joined by then, which is how it replays).
        for offset, profile in enumerate(ExpertProfile.objects.filter(pk__lte=existing).order_by("pk")):
            joined = self.pool_joined - dt.timedelta(days=60 - offset)
            self.clock.set(profile, created_at=joined, updated_at=joined)
        self.report.experts = ExpertProfile.objects.count()

    def _serial(self) -> int:
        self.serial += 1
        return 700_000_000 + self.rng.randrange(10**6) * 100 + self.serial

    # -- finding and registering applicants ---------------------------------------------------------
    def cast(
        self, specs: list[tuple[str, Pick, float]], *, founded_by: dt.date, day: dt.date
    ) -> dict[str, Case]:
        cases: dict[str, Case] = {}
        used_owners: set[int] = set()
        for key, pick, quality in specs:
            brand = self._find(pick, founded_by, used_owners)
            used_owners.add(brand.owner_id)
            self.used_brands.add(brand.pk)
            case = Case(key=key, pick=pick, brand=brand, quality=quality)
            case.manager = self._manager_of(brand, day)
            case.recommender = self._recommender_of(brand)
            case.rule_set = self.rule_sets[
                (brand.brand_type.code, cast(Category, services.level2_category(brand.category)).code)
            ]
            cases[key] = case
        return cases

    def _find(self, pick: Pick, founded_by: dt.date, used_owners: set[int]) -> Brand:
        brands = Brand.objects.select_related("owner__region", "owner__organisation", "category__parent")
        brands = brands.select_related("brand_type", "tier").filter(status=Brand.Status.ACTIVE)
        if pick.account:
            owner = Enterprise.objects.get(organisation__memberships__user__username=pick.account)
            found = brands.filter(owner=owner, brand_type__code=pick.brand_type, tier__code=pick.tier)
            brand = found.order_by("name").first() or brands.filter(owner=owner).order_by("name").first()
            return cast(Brand, brand)  # the demo accounts own brands
        candidates = brands.filter(
            brand_type__code=pick.brand_type,
            tier__code=pick.tier,
            owner__founded_on__lte=founded_by,
        ).filter(Q(category__code=pick.category) | Q(category__parent__code=pick.category))
        if pick.city:
            candidates = candidates.filter(owner__region__code__startswith=pick.city)
        for city in pick.avoid_cities:
            candidates = candidates.exclude(owner__region__code__startswith=city)
        candidates = candidates.exclude(pk__in=self.used_brands).exclude(owner_id__in=used_owners)
        # Owners that registered earlier in the story apply again where they can; the others are
        # enterprises and associations without an account yet, which register first.
        rows = list(
            candidates.filter(
                Q(owner__organisation__isnull=True)
                | Q(owner__organisation__memberships__user__username__in=self.new_accounts)
            )
            .order_by("owner__uscc", "name")
            .values_list("pk", "owner__organisation_id")
        )
        if not rows:
            raise ConflictError(f"演示数据中没有符合条件的品牌：{pick}")
        registered = [pk for pk, organisation in rows if organisation is not None]
        return brands.get(pk=self.rng.choice(registered or [pk for pk, _ in rows]))

    def _manager_of(self, brand: Brand, day: dt.date) -> Any:
        owner = brand.owner
        if owner.organisation_id is not None:
            username = (
                User.objects.filter(membership__organisation_id=owner.organisation_id)
                .values_list("username", flat=True)
                .first()
            )
            return self.user(cast(str, username))  # the organisation has a member
        registered = len([a for a in self.new_accounts if a.startswith("ent-")])
        username = f"ent-{FIRST_EXTRA_ENTERPRISE + registered:02d}"
        collective = owner.name.endswith(("协会", "中心"))
        kind = Organisation.Kind.BRAND_OWNER if collective else Organisation.Kind.ENTERPRISE
        approver = NAMED_CITIES.get(owner.region.code[:4], "office")
        on = day - dt.timedelta(days=self.rng.randrange(40, 120))
        with self.at(on, 14, self.rng.randrange(60)):
            membership = accounts.enterprise_register(
                uscc=owner.uscc,
                name=owner.name,
                region=owner.region,
                legal_representative=owner.legal_representative,
                contact_name=owner.contact_name,
                contact_phone=owner.contact_phone,
                contact_email=owner.contact_email,
                username=username,
                password=secrets.token_urlsafe(12) + "Aa1",
                kind=kind,
            )
        reviewed = on + dt.timedelta(days=2)
        with self.at(reviewed, 10):
            organisation = accounts.organisation_review(
                actor=self.user(approver),
                organisation=membership.organisation,
                approve=True,
                note="营业执照信息与统一社会信用代码核验一致，同意注册。",
            )
        self.clock.set(organisation, reviewed_at=_moment(reviewed, 10), updated_at=_moment(reviewed, 10))
        self.new_accounts.append(username)
        brand.owner.organisation_id = organisation.pk
        return self.fresh(username)

    def _recommender_of(self, brand: Brand) -> Any:
        city = brand.owner.region.code[:4]
        if city in NAMED_CITIES:
            return self.user(NAMED_CITIES[city])
        return self.user("dept-agri" if brand.category.code.startswith("1") else "dept-industry")

    # -- an applicant fills in and submits --------------------------------------------------------
    def start(self, case: Case, batch: Batch, day: dt.date) -> Application:
        with self.at(day, 9, self.rng.randrange(60)):
            case.application = services.application_start(actor=case.manager, batch=batch, brand=case.brand)
        return case.application

    def fill(
        self,
        case: Case,
        day: dt.date,
        *,
        years: int = 3,
        assess: bool = True,
        sign: bool = True,
        rd_ratio: float | None = None,
    ) -> None:
        application, manager, brand = case.application, case.manager, case.brand
        owner = brand.owner
        collective = brand.brand_type.code in {"gi", "regional", "industry"}
        with self.at(day, 10, self.rng.randrange(60)):
            services.application_update(
                actor=manager,
                application=application,
                products=list(brand.products.order_by("pk")),
                summary=_summary(brand),
                national_rank=self.rng.randrange(3, 19),
                provincial_rank=self.rng.randrange(1, 5),
                credit_clean=True,
                inspection_clean=True,
            )
            figures = self._figures(owner, application.batch.year, collective, rd_ratio)
            services.application_set_figures(actor=manager, application=application, figures=figures[:years])
        if assess:
            with self.at(day + dt.timedelta(days=1), 15, self.rng.randrange(60)):
                leaves = case.rule_set.indicators.filter(parent__isnull=False)
                scores = {
                    leaf.code: _half_points(leaf.max_score * Decimal(min(case.quality + 0.06, 0.98)))
                    for leaf in leaves
                }
                notes = {"1.1": "已通过 GB/T 19001 质量管理体系认证，证书在有效期内。"}
                services.application_set_self_assessment(
                    actor=manager, application=application, scores=scores, notes=notes
                )
        if sign:
            with self.at(day + dt.timedelta(days=2), 9, 10):
                services.application_sign_declaration(
                    actor=manager, application=application, name=owner.legal_representative
                )

    def _figures(self, owner: Enterprise, batch_year: int, collective: bool, rd_ratio: float | None) -> list:
        low, high = (
            GI_REVENUE if collective else SIZE_REVENUE.get(owner.size or "small", SIZE_REVENUE["small"])
        )
        revenue = Decimal(self.rng.randrange(low, high))
        staff_low, staff_high = SIZE_STAFF.get(owner.size or "small", SIZE_STAFF["small"])
        staff = self.rng.randrange(staff_low, staff_high)
        ratio = Decimal(str(rd_ratio)) if rd_ratio is not None else Decimal(self.rng.randrange(32, 61)) / 10
        rows = []
        for year in (batch_year - 1, batch_year - 2, batch_year - 3):
            rows.append(
                {
                    "year": year,
                    "revenue": revenue.quantize(CENT),
                    "profit": (revenue * Decimal(self.rng.randrange(5, 13)) / 100).quantize(CENT),
                    "tax": (revenue * Decimal(self.rng.randrange(3, 7)) / 100).quantize(CENT),
                    "rd_spend": (revenue * ratio / 100).quantize(CENT),
                    "export": (revenue * Decimal(self.rng.randrange(0, 18)) / 100).quantize(CENT),
                    "employees": staff,
                }
            )
            revenue = revenue / (1 + Decimal(self.rng.randrange(4, 16)) / 100)
            staff = max(10, staff - self.rng.randrange(0, staff // 10 + 2))
        return rows

    def submit(self, case: Case, day: dt.date) -> None:
        with self.at(day, 16, self.rng.randrange(60)):
            services.application_submit(actor=case.manager, application=case.application)

    def apply(self, case: Case, batch: Batch, day: dt.date, **fill: Any) -> None:
        """Start, fill in over a few days and submit."""
        self.start(case, batch, day)
        self.fill(case, day + dt.timedelta(days=1), **fill)
        self.submit(case, day + dt.timedelta(days=4))

    # -- the review -----------------------------------------------------------------------------------
    def move(
        self, case: Case, action: str, actor: Any, day: dt.date, opinion: str = "", **extra: Any
    ) -> None:
        with self.at(day, self.rng.randrange(9, 17), self.rng.randrange(60)):
            services.application_move(
                application=case.application, action=action, actor=actor, opinion=opinion, **extra
            )

    def recommend(self, case: Case, day: dt.date) -> None:
        unit = Organisation.objects.get(memberships__user=case.recommender).short_name
        opinion = self.rng.choice(
            [
                f"经审核，{case.brand.owner.name}申报材料真实完整，符合申报条件，同意推荐。",
                f"经{unit}审核，该品牌质量稳定、市场口碑良好，申报材料齐全，同意推荐。",
                "申报材料齐全，经营状况良好，近三年无违法违规记录，同意推荐。",
            ]
        )
        self.move(case, "recommend", case.recommender, day, opinion)

    def check_manual(self, case: Case, day: dt.date) -> None:
        """The office decides the criteria that data cannot (trademarks, GI registration)."""
        with self.at(day, 10, self.rng.randrange(60)):
            for criterion in case.rule_set.criteria.filter(metric=""):
                services.application_check_criterion(
                    actor=self.office,
                    application=case.application,
                    criterion=criterion,
                    met=True,
                    note=_manual_note(criterion, case.brand),
                )

    def qualify(self, case: Case, day: dt.date) -> None:
        """The office decides the manual criteria, then qualifies."""
        self.check_manual(case, day)
        self.move(
            case, "qualify", self.office, day, "资格条件审查通过：自动判定条件均满足，人工审查条件已核实。"
        )

    def credit_check(self, case: Case, day: dt.date) -> None:
        self.move(
            case,
            "check",
            self.office,
            day,
            self.rng.choice(
                [
                    "经查询“信用中国（山东）”，近三年无严重失信记录；舆情监测未发现负面信息。",
                    "信用记录良好，近三年无行政处罚和质量安全事故；网络舆情无负面报道。",
                ]
            ),
        )

    def draw(self, batch: Batch, rule_set: RuleSet, day: dt.date) -> PanelDraw:
        seed = f"{batch.year}-{batch.sequence}-{rule_set.brand_type.code}-{rule_set.category.code}"
        with self.at(day, 10):
            return experts.draw_panels(actor=self.office, batch=batch, rule_set=rule_set, seed=seed)

    def seats(self, case: Case) -> list[Assignment]:
        return list(
            Assignment.objects.filter(application=case.application, status=Assignment.Status.INVITED)
            .select_related("expert__user")
            .order_by("order")
        )

    def declare(self, seat: Assignment, day: dt.date, *, conflict: str = "") -> None:
        when = _moment(day, self.rng.randrange(8, 22), self.rng.randrange(60))
        with self.clock.at(when):
            experts.assignment_declare(
                actor=self.user(seat.expert.user.username),
                assignment=seat,
                conflict=bool(conflict),
                note=conflict,
            )
        self.clock.set(seat, declared_at=when, updated_at=when)

    def score(
        self, case: Case, seat: Assignment, day: dt.date, *, bias: float = 0.0, submit: bool = True
    ) -> None:
        expert = self.user(seat.expert.user.username)
        leaves = scoring.leaf_indicators(case.rule_set.pk)
        lean = self.rng.uniform(-0.04, 0.04) + bias
        sheet = {}
        for leaf in leaves:
            ratio = max(0.35, min(1.0, case.quality + lean + self.rng.uniform(-0.06, 0.06)))
            tier = 0 if ratio >= 0.88 else 1 if ratio >= 0.72 else 2
            sheet[leaf.code] = {
                "score": _half_points(leaf.max_score * Decimal(str(round(ratio, 4)))),
                "comment": COMMENTS.get(leaf.code, COMMENTS["1.1"])[tier],
            }
        when = _moment(day, self.rng.randrange(8, 22), self.rng.randrange(60))
        with self.clock.at(when):
            scoring.scores_save(actor=expert, assignment=seat, scores=sheet)
            if submit:
                scoring.scores_submit(actor=expert, assignment=seat)
        if submit:
            self.clock.set(seat, submitted_at=when, updated_at=when)

    def expert_review(self, batch: Batch, cases: list[Case], day: dt.date, *, outlier: str = "") -> None:
        """Draw the panels of ``cases`` (one rule set), every expert declares and scores, aggregate."""
        rule_set = cases[0].rule_set
        draw = self.draw(batch, rule_set, day)
        if draw.shortfalls:  # the pool is too small for the story: a bug of the demo's tables
            raise ConflictError(f"专家人数不足：{draw.shortfalls}")
        for case in cases:
            for position, seat in enumerate(self.seats(case)):
                self.declare(seat, day + dt.timedelta(days=1 + position % 3))
                bias = -0.17 if case.key == outlier and position == 2 else 0.0
                self.score(case, seat, day + dt.timedelta(days=6 + position), bias=bias)
        with self.at(day + dt.timedelta(days=16), 15):
            scoring.aggregate(actor=self.office, batch=batch, rule_set=rule_set)
        for case in cases:
            passed = Application.objects.values_list("passed", flat=True).get(pk=case.application.pk)
            if passed != (case.quality >= PASS_QUALITY):  # the story's tables disagree with its scores
                raise ConflictError(f"演示申报 {case.key} 的评审结果与设定不符。")

    def consult(self, case: Case, day: dt.date) -> None:
        departments = (
            "省农业农村厅" if case.brand.category.code.startswith("1") else "省工业和信息化厅、省商务厅"
        )
        self.move(case, "consult", self.office, day, f"已征求{departments}等部门意见，均无不同意见。")

    def approve(self, case: Case, day: dt.date) -> None:
        self.move(
            case, "approve", self.office, day, "经省质量强省工作领导小组办公室审定，同意列入拟入选名单。"
        )

    def reject_low_score(self, case: Case, day: dt.date) -> None:
        application = Application.objects.get(pk=case.application.pk)
        self.move(
            case,
            "reject",
            self.office,
            day,
            f"专家评审综合得分 {application.score_total} 分，低于本细则合格分数线 "
            f"{case.rule_set.pass_line.normalize():f} 分，不予通过。",
        )

    # -- batches ------------------------------------------------------------------------------------
    def new_batch(
        self,
        *,
        sequence: int,
        year: int,
        opened: dt.date,
        until: dt.date,
        rule_sets: Iterable[RuleSet],
        panel_size: int = PANEL_SIZE,
    ) -> Batch:
        """Create and open a batch. Its window is today's while people apply (the services check
        it) and is moved to the story's dates when the window closes (``date_batch``)."""
        with self.at(opened - dt.timedelta(days=10), 10):
            batch = services.batch_create(
                actor=self.office,
                year=year,
                sequence=sequence,
                title=f"{year}年第{notices.cn_numeral(sequence)}批“好品山东”品牌评价",
                apply_from=min(opened, self.today),
                apply_until=max(until, self.today),
                recommend_until=max(until, self.today) + dt.timedelta(days=10),
                review_until=max(until, self.today) + dt.timedelta(days=90),
                panel_size=panel_size,
                reserve_size=RESERVE_SIZE,
                certificate_years=3,
                description="申报主体对照评价细则如实填报，经所在市市场监管局或省直主管部门推荐后参加评价。",
            )
            for rule_set in rule_sets:
                services.batch_rule_set_attach(actor=self.office, batch=batch, rule_set=rule_set)
        with self.at(opened, 9):
            services.batch_open(actor=self.office, batch=batch)
        return batch

    def date_batch(self, batch: Batch, *, opened: dt.date, until: dt.date, review_days: int = 90) -> None:
        Batch.objects.filter(pk=batch.pk).update(
            apply_from=opened,
            apply_until=until,
            recommend_until=until + dt.timedelta(days=10),
            review_until=until + dt.timedelta(days=review_days),
        )

    def notice(
        self, batch: Batch, day: dt.date, objections: list[tuple[Case, str, str, str, str, str]]
    ) -> None:
        """Open the notice, take the objections, answer them, let the period end and publish."""
        starts = _working_on_or_after(day)
        with self.at(starts, 9):
            services.batch_open_notice(actor=self.office, batch=batch)
        computed = notice = PublicNotice.objects.get(batch=batch)
        if notice.starts_on > self.today:
            # Seeding on a day off: the notice would start on the next working day and refuse
            # objections until then; the story's notice ran long ago, so it starts today.
            PublicNotice.objects.filter(pk=notice.pk).update(starts_on=self.today)
        ends = calendar.add_working_days(starts, batch.notice_days - 1)
        token = secrets.token_hex(4)
        for number, (case, outcome, name, phone, content, answer) in enumerate(objections):
            lodged = starts + dt.timedelta(days=1 + number)
            with self.at(lodged, 20, 15 + number):
                objection = notices.objection_lodge(
                    application=case.application,
                    name=name,
                    phone=phone,
                    content=content,
                    email=f"objector{number + 1}@mail.example",
                    # Objections come from the portal, each from its own address; the demo's
                    # addresses differ per run so that reseeding stays under the lodging limit.
                    client=f"{CLIENT}/{token}/{number}",
                )
            answered = _moment(ends + dt.timedelta(days=1 + number), 11)
            with self.clock.at(answered):
                notices.objection_answer(
                    actor=self.office, objection=objection, outcome=outcome, answer=answer
                )
            self.clock.set(objection, answered_at=answered)
        notice = PublicNotice.objects.get(batch=batch)
        closed = _moment(ends + dt.timedelta(days=1), 0, 10)
        with self.clock.at(closed):
            notices.notice_close(notice=notice, today=notice.ends_on + dt.timedelta(days=1))
        PublicNotice.objects.filter(pk=notice.pk).update(starts_on=starts, ends_on=ends)
        self.clock.set(notice, closed_at=closed)
        # The notice's text, the applications' decisions and the notifications name the period
        # the service computed on the seeding day; they name the story's period instead.
        periods = [(computed.starts_on, starts), (computed.ends_on, ends)]
        _redate(PublicNotice.objects.filter(pk=notice.pk), "body", periods)
        _redate(Decision.objects.filter(application__batch=batch, action="open_notice"), "opinion", periods)
        _redate(Notification.objects.filter(body__contains=notice.title), "body", periods)
        _redate(Notification.objects.filter(title__contains=notice.title), "body", periods)

    def publish(self, batch: Batch, day: dt.date) -> None:
        with self.at(day, 10):
            services.batch_publish(actor=self.office, batch=batch)
        self.clock.set(batch, published_at=_moment(day, 10), updated_at=_moment(day, 10))
        issued = Certificate.objects.filter(batch=batch)
        # Each demo batch issues certificates.
        computed = cast(tuple[dt.date, dt.date], issued.values_list("valid_from", "valid_until").first())
        valid_from, valid_until = certificates.validity(day, batch.certificate_years)
        issued.update(issued_on=day, valid_from=valid_from, valid_until=valid_until)
        # The holders were told the validity computed on the seeding day.
        periods = [(computed[0], valid_from), (computed[1], valid_until)]
        for number in issued.values_list("number", flat=True):
            _redate(
                Notification.objects.filter(kind="certificates.issued", title__contains=number),
                "body",
                periods,
            )

    def certificate(self, case: Case) -> Certificate:
        return Certificate.objects.get(application=case.application)

    def cert_move(self, case: Case, action: str, day: dt.date, reason: str) -> None:
        with self.at(day, 14, self.rng.randrange(60)):
            certificates.certificate_move(
                actor=self.office, certificate=self.certificate(case), action=action, reason=reason
            )

    # -- 第一批 -------------------------------------------------------------------------------------
    def first_batch(self) -> None:
        published = self.first_published
        opened = published - dt.timedelta(days=200)
        until = opened + dt.timedelta(days=35)
        cases = self.cast(FIRST, founded_by=_add_years(until, -YEARS_MARGIN), day=opened)
        rule_sets = sorted({case.rule_set for case in cases.values()}, key=lambda r: r.pk)
        batch = self.new_batch(
            sequence=1,
            year=opened.year,
            opened=opened,
            until=until,
            rule_sets=rule_sets,
            panel_size=EARLIER_PANEL_SIZE,
        )
        for index, case in enumerate(cases.values()):
            self.apply(case, batch, opened + dt.timedelta(days=2 + 4 * index))
            self.recommend(case, opened + dt.timedelta(days=9 + 4 * index))
        with self.at(until + dt.timedelta(days=1), 9):
            services.batch_close_applications(actor=self.office, batch=batch)
        self.date_batch(batch, opened=opened, until=until)
        review = until + dt.timedelta(days=12)
        for index, case in enumerate(cases.values()):
            self.qualify(case, review + dt.timedelta(days=index % 3))
            self.credit_check(case, review + dt.timedelta(days=10 + index % 3))
        for offset, group in enumerate(_by_rule_set(cases.values())):
            self.expert_review(batch, group, review + dt.timedelta(days=25 + offset), outlier="a2")
        for index, case in enumerate(cases.values()):
            self.consult(case, review + dt.timedelta(days=55 + index % 2))
            self.approve(case, review + dt.timedelta(days=70))
        self.notice(
            batch,
            review + dt.timedelta(days=85),
            [
                (cases["a5"], Objection.Status.UPHELD, "孙立明", "13905318867",
                 f"“{cases['a5'].brand.name}”生产企业的产品在去年的市级食品安全监督抽检中标签项目不合格，"
                 "申报材料中“近三年无抽查不合格”的承诺与事实不符。",
                 "经核查，情况属实：该企业产品在市级监督抽检中标签标识项目不合格，申报承诺与事实不符，"
                 "异议成立，取消其拟入选资格。"),
                (cases["a3"], Objection.Status.DISMISSED, "周海燕", "0535-6218845",
                 f"“{cases['a3'].brand.name}”的部分葡萄酒系外地原酒灌装，不应视为本省自主品牌。",
                 "经调查，该企业申报范围内的产品均以自有基地葡萄原料酿造，外购原酒灌装的产品未纳入申报范围，"
                 "异议不成立。"),
            ],
        )  # fmt: skip
        self.publish(batch, published)
        with self.at(published + dt.timedelta(days=60), 10):
            services.batch_close(actor=self.office, batch=batch)
        self.cert_move(
            cases["a2"],
            "suspend",
            self.today - dt.timedelta(days=41),
            "在本年度省级产品质量监督抽查中，证书覆盖产品菌落总数项目不合格，责令整改，整改期间暂停证书。",
        )
        # The platform gives all certificates of a batch one validity; this one is dated to have
        # ended four days ago so that the tick's expiry can be shown (see the module doc).
        lapsed = self.certificate(cases["a4"])
        Certificate.objects.filter(pk=lapsed.pk).update(valid_until=self.today - dt.timedelta(days=4))
        with self.at(self.today - dt.timedelta(days=3), 0, 10):
            certificates.certificates_expire(today=self.today)
        self.say(f"第一批 / first batch: {Application.objects.filter(batch=batch).count()} 项申报，已结束")

    # -- 第二批 -------------------------------------------------------------------------------------
    def second_batch(self) -> None:
        published = self.second_published
        opened = published - dt.timedelta(days=190)
        until = opened + dt.timedelta(days=35)
        cases = self.cast(SECOND, founded_by=_add_years(until, -YEARS_MARGIN), day=opened)
        rule_sets = sorted({case.rule_set for case in cases.values()}, key=lambda r: r.pk)
        batch = self.new_batch(
            sequence=2,
            year=opened.year,
            opened=opened,
            until=until,
            rule_sets=rule_sets,
            panel_size=EARLIER_PANEL_SIZE,
        )
        for index, case in enumerate(cases.values()):
            self.apply(case, batch, opened + dt.timedelta(days=3 + 4 * index))
            self.recommend(case, opened + dt.timedelta(days=10 + 4 * index))
        with self.at(until + dt.timedelta(days=1), 9):
            services.batch_close_applications(actor=self.office, batch=batch)
        self.date_batch(batch, opened=opened, until=until)
        review = until + dt.timedelta(days=10)
        for index, case in enumerate(cases.values()):
            self.qualify(case, review + dt.timedelta(days=index % 3))
            self.credit_check(case, review + dt.timedelta(days=11 + index % 3))
        for offset, group in enumerate(_by_rule_set(cases.values())):
            self.expert_review(batch, group, review + dt.timedelta(days=24 + offset), outlier="b4")
        b5 = cases.pop("b5")
        self.reject_low_score(b5, review + dt.timedelta(days=52))
        for index, case in enumerate(cases.values()):
            self.consult(case, review + dt.timedelta(days=52 + index % 2))
            self.approve(case, review + dt.timedelta(days=66))
        self.notice(batch, review + dt.timedelta(days=80), [])
        self.publish(batch, published)
        self.cert_move(
            cases["b2"], "suspend", published + dt.timedelta(days=95), "年度复核材料逾期未报送，暂停证书。"
        )
        self.cert_move(
            cases["b2"],
            "restore",
            published + dt.timedelta(days=120),
            "已补报年度复核材料并经审核通过，恢复证书。",
        )
        self.cert_move(
            cases["b4"],
            "revoke",
            published + dt.timedelta(days=150),
            "经调查，持证企业在证书范围以外的产品上使用“好品山东”标识，情节严重，撤销证书。",
        )
        self.cert_move(
            cases["b1"],
            "withdraw",
            self.today - dt.timedelta(days=20),
            "持证企业申请注销：企业经营调整，证书覆盖的产品已停止生产销售。",
        )
        self.say(f"第二批 / second batch: {Application.objects.filter(batch=batch).count()} 项申报，已发布")

    # -- 第三批 -------------------------------------------------------------------------------------
    def third_batch(self) -> None:
        opened = self.today - dt.timedelta(days=95)
        until = opened + dt.timedelta(days=35)
        cases = self.cast(THIRD, founded_by=_add_years(until, -YEARS_MARGIN), day=opened)
        rule_sets = sorted({case.rule_set for case in cases.values()}, key=lambda r: r.pk)
        batch = self.new_batch(
            sequence=3, year=self.today.year, opened=opened, until=until, rule_sets=rule_sets
        )
        for index, case in enumerate(cases.values()):
            self.apply(case, batch, opened + dt.timedelta(days=2 + 2 * index))
            self.recommend(case, opened + dt.timedelta(days=9 + 2 * index))
        with self.at(until + dt.timedelta(days=1), 9):
            services.batch_close_applications(actor=self.office, batch=batch)
        self.date_batch(batch, opened=opened, until=until, review_days=130)
        review = until + dt.timedelta(days=5)
        # Withdrawn by its applicant after the recommendation.
        self.move(cases["c9"], "withdraw", cases["c9"].manager, review + dt.timedelta(days=3))
        # Rejected: the applicant is on the list of abnormal operations (veto item F2).
        c8 = cases["c8"]
        with self.at(review + dt.timedelta(days=15), 11):
            finding = services.veto_raise(
                actor=self.office,
                application=c8.application,
                veto_item=c8.rule_set.veto_items.get(code="F2"),
                note="经查询国家企业信用信息公示系统，申报单位于今年被列入经营异常名录，尚未移出。",
            )
        with self.at(review + dt.timedelta(days=18), 10):
            services.veto_resolve(
                actor=self.office,
                finding=finding,
                confirmed=True,
                resolution="经与登记机关核实，申报单位确在经营异常名录中，否决情形成立。",
            )
        self.move(
            c8,
            "reject",
            self.office,
            review + dt.timedelta(days=19),
            "存在否决情形 F2：被列入经营异常名录且未移出，不予通过。",
        )
        # Qualified and waiting for the credit check.
        self.qualify(cases["c7"], review + dt.timedelta(days=26))
        # Checked and waiting for the draw of its rule set (equipment).
        self.qualify(cases["c6"], review + dt.timedelta(days=8))
        self.credit_check(cases["c6"], review + dt.timedelta(days=30))
        # Processed food: scored and aggregated; one reviewed, one consulted, one approved.
        food = [cases["c3"], cases["c4"], cases["c5"]]
        for index, case in enumerate(food):
            self.qualify(case, review + dt.timedelta(days=2 + index))
            self.credit_check(case, review + dt.timedelta(days=12 + index))
        self.expert_review(batch, food, review + dt.timedelta(days=24))
        self.consult(cases["c4"], self.today - dt.timedelta(days=6))
        self.consult(cases["c5"], self.today - dt.timedelta(days=6))
        self.approve(cases["c5"], self.today - dt.timedelta(days=2))
        # Metallurgy: drawn nine days ago, the experts are at work.
        metal = [cases["c1"], cases["c2"]]
        for index, case in enumerate(metal):
            self.qualify(case, review + dt.timedelta(days=4 + index))
            self.credit_check(case, review + dt.timedelta(days=14 + index))
        drawn = self.today - dt.timedelta(days=9)
        self.draw(batch, metal[0].rule_set, drawn)
        self.experts_at_work(metal, drawn)
        self.say(f"第三批 / third batch: {Application.objects.filter(batch=batch).count()} 项申报，评审中")

    def experts_at_work(self, cases: list[Case], drawn: dt.date) -> None:
        """On the first panel three experts declared (two submitted, one saved a draft); on the
        second one declared a conflict (the reserve took the seat), one declared and raised a veto
        item, one submitted and two have not declared. expert-01 has declared nothing."""
        first = self.user("expert-01")
        for number, case in enumerate(cases[:2]):
            seats = [s for s in self.seats(case) if s.expert.user_id != first.pk]
            for position, seat in enumerate(seats[:3]):
                day = drawn + dt.timedelta(days=1 + position)
                if number == 1 and position == 0:
                    self.declare(seat, day, conflict="本人近两年为申报单位提供过技术咨询服务，申请回避。")
                    continue
                self.declare(seat, day)
                if number == 1 and position == 1:
                    with self.at(day + dt.timedelta(days=2), 21):
                        scoring.expert_veto_raise(
                            actor=self.user(seat.expert.user.username),
                            assignment=seat,
                            veto_item=case.rule_set.veto_items.get(code="F3"),
                            note="申报材料未提及：该企业热轧带肋钢筋产品去年在国家监督抽查中重量偏差项目不合格。",
                        )
                    continue
                self.score(case, seat, day + dt.timedelta(days=2), submit=not (number == 0 and position == 2))

    # -- 第四批 -------------------------------------------------------------------------------------
    def fourth_batch(self) -> None:
        opened = self.today - dt.timedelta(days=16)
        until = self.today + dt.timedelta(days=25)
        cases = self.cast(FOURTH, founded_by=_add_years(until, -YEARS_MARGIN), day=opened)
        rule_sets = sorted({case.rule_set for case in cases.values()}, key=lambda r: r.pk)
        batch = self.new_batch(
            sequence=4, year=self.today.year, opened=opened, until=until, rule_sets=rule_sets
        )
        self.date_batch(batch, opened=opened, until=until)
        day = opened + dt.timedelta(days=1)
        # ent-01 started its application and filled in part of it.
        d1 = cases["d1"]
        self.start(d1, batch, day + dt.timedelta(days=6))
        self.fill(d1, self.today - dt.timedelta(days=2), years=2, assess=False, sign=False)
        # The Jinan bureau recommends ent-02's brand; ent-02 has yet to complete the application.
        d2 = cases["d2"]
        with self.at(self.today - dt.timedelta(days=3), 10, 20):
            d2.application = services.application_recommend_start(
                actor=self.user("city-jinan"),
                batch=batch,
                brand=d2.brand,
                summary=f"{d2.brand.owner.name}是本市软件和信息技术服务业骨干企业，推荐其参加本批次评价。",
            )
        # Waiting for the recommendation of city-jinan (d3), city-qingdao (d4), dept-agri (d5).
        for index, key in enumerate(["d3", "d4", "d5", "d6", "d7"]):
            self.apply(cases[key], batch, day + dt.timedelta(days=index))
        self.move(
            cases["d6"],
            "return",
            cases["d6"].recommender,
            day + dt.timedelta(days=9),
            "主要经济指标与纳税证明不一致，请补充上年度审计报告后重新提交。",
            deadline=self.today + dt.timedelta(days=12),
        )
        self.recommend(cases["d7"], day + dt.timedelta(days=10))
        self.say(f"第四批 / fourth batch: {Application.objects.filter(batch=batch).count()} 项申报，申报中")

    # -- dates derived from the decisions ------------------------------------------------------------
    def date_derived(self) -> None:
        """Applications: submitted and signed when their last submission was made, updated at their
        last decision; certificates: updated at their last status change."""
        last: dict[int, dt.datetime] = {}
        submitted: dict[int, dt.datetime] = {}
        for application_id, action, when in Decision.objects.values_list(
            "application_id", "action", "created_at"
        ):
            last[application_id] = max(when, last.get(application_id, when))
            if action == "submit":
                submitted[application_id] = max(when, submitted.get(application_id, when))
        rows = Application.objects.values_list("pk", "created_at", "declaration_signed_at")
        for pk, created, signed in rows:
            values: dict[str, Any] = {"updated_at": max(created, last.get(pk, created))}
            if pk in submitted:
                values["submitted_at"] = submitted[pk]
                if signed is not None:
                    values["declaration_signed_at"] = submitted[pk] - dt.timedelta(minutes=25)
            elif signed is not None:
                values["declaration_signed_at"] = created + dt.timedelta(days=3)
            Application.objects.filter(pk=pk).update(**values)
        changed: dict[int, dt.datetime] = {}
        for certificate_id, when in CertificateEvent.objects.values_list("certificate_id", "created_at"):
            changed[certificate_id] = max(when, changed.get(certificate_id, when))
        for pk, when in changed.items():
            Certificate.objects.filter(pk=pk).update(updated_at=when)


def _redate(rows: Any, field_name: str, periods: list[tuple[dt.date, dt.date]]) -> None:
    """Replace the dates a text names (as ``cn_date`` writes them) with the story's dates."""
    value: Any = F(field_name)
    for computed, story in periods:
        value = Replace(value, Value(cn_date(computed)), Value(cn_date(story)))
    rows.update(**{field_name: value})


def _by_rule_set(cases: Iterable[Case]) -> list[list[Case]]:
    groups: dict[int, list[Case]] = {}
    for case in cases:
        groups.setdefault(case.rule_set.pk, []).append(case)
    return list(groups.values())


def _half_points(value: Decimal) -> Decimal:
    return (value * 2).quantize(Decimal("1"), rounding=ROUND_HALF_UP) / 2


def _summary(brand: Brand) -> str:
    first = (brand.description or "").split("。")[0]
    return (
        f"{first}。品牌坚持质量为先，主要产品执行高于国家标准的企业标准，近三年营业收入稳步增长，"
        "研发投入持续加大，申请参加“好品山东”品牌评价。"
    )


def _manual_note(criterion: Criterion, brand: Brand) -> str:
    if "商标" in criterion.text:
        numbers = "、".join(brand.trademark_numbers[:2]) or "—"
        return f"已核验商标注册证（注册号 {numbers}），在有效期内。"
    if "地理标志" in criterion.text:
        return "已核验地理标志证明商标注册证书。"
    return "已核验相关管理制度文件。"


def _variant(workbook: bytes, brand_type: str) -> bytes:
    """The model rule set's workbook as the office adapts it for a brand type."""
    if brand_type == "product":
        return workbook
    book = load_workbook(io.BytesIO(workbook))
    guidance = ENTERPRISE_GUIDANCE if brand_type == "enterprise" else GI_GUIDANCE
    for row in book["指标"].iter_rows(min_row=2):
        code = str(row[0].value)
        if code in guidance:
            row[4].value = guidance[code]
    if brand_type == "gi":
        sheet = book["资格条件"]
        sheet.delete_rows(2, sheet.max_row)
        labels = dict(Criterion.Metric.choices)
        operators = dict(Criterion.Operator.choices)
        for code, text, metric, operator, threshold, group in GI_CRITERIA:
            sheet.append(
                [code, text, labels.get(metric, ""), operators.get(operator, ""), threshold or None, group]
            )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# --- reading back: the digest the tests compare ----------------------------------------------------


def database_rows() -> Iterator[tuple[Any, ...]]:
    """Numbers, statuses, panels and scores of the evaluation demo (no dates, no primary keys)."""
    row: tuple[Any, ...]
    for row in RuleSet.objects.values_list(
        "category__code", "brand_type__code", "version", "status", "title"
    ):
        yield ("rule_set", *row)
    for row in Batch.objects.values_list("sequence", "status", "panel_size", "certificate_years"):
        yield ("batch", *row)
    for row in Application.objects.values_list(
        "number", "brand__name", "enterprise__uscc", "status", "route", "score_total", "rank", "passed"
    ):
        yield ("application", *(str(v) if isinstance(v, Decimal) else v for v in row))
    for row in Assignment.objects.values_list(
        "application__number", "expert__user__username", "role", "order", "status"
    ):
        yield ("seat", *row)
    for row in Score.objects.values_list(
        "assignment__application__number",
        "assignment__expert__user__username",
        "indicator__code",
        "score",
        "comment",
    ):
        yield ("score", *(str(v) if isinstance(v, Decimal) else v for v in row))
    for row in Certificate.objects.values_list("number", "application__number", "status", "status_reason"):
        yield ("certificate", *row)
    for row in Objection.objects.values_list("number", "application__number", "status"):
        yield ("objection", *row)


def database_digest() -> str:
    lines = sorted(repr(row) for row in database_rows())
    sha = hashlib.sha256()
    for line in lines:
        sha.update(line.encode())
        sha.update(b"\n")
    return sha.hexdigest()


def is_added_account(username: str) -> bool:
    """Whether ``username`` is one of the accounts this demo adds to the province (experts beyond
    expert-20, enterprises and associations beyond ent-10)."""
    for prefix, first in (("expert-", FIRST_EXTRA_EXPERT), ("ent-", FIRST_EXTRA_ENTERPRISE)):
        number = username.removeprefix(prefix)
        if number != username and number.isdigit() and int(number) >= first:
            return True
    return False


def province_digest() -> str:
    """``core.demo.database_digest`` without what this demo added to the province: the new
    members of the expert pool, and the accounts (organisations, users, registry links) of the
    enterprises and associations that registered to apply. Equal to the province plan's digest
    after ``seed_demo``: the evaluation demo changes nothing else of the province."""
    from haopin.core import demo as province

    added = {name for name in User.objects.values_list("username", flat=True) if is_added_account(name)}
    organisations = set(
        Organisation.objects.filter(memberships__user__username__in=added).values_list("name", flat=True)
    )
    rows = []
    for row in province.database_rows():
        if row[0] in ("user", "expert") and row[1] in added:
            continue
        if row[0] == "org" and row[2] in organisations:
            continue
        if row[0] == "enterprise" and row[-1] in organisations:
            row = (*row[:-1], "")
        rows.append(row)
    return province.digest_rows(rows)
