"""The model rule set: the programme's six dimensions with their indicators, veto items and
eligibility criteria (DOMAIN.md: quality, innovation, brand, benefit, green development, credit
and social responsibility; the manufacturer example of the eligibility rules). The office starts
new rule sets from it (and the demo province uses it); every value is editable in the draft.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from haopin.standards import services
from haopin.standards.models import RuleSet

DIMENSIONS: list[tuple[str, str, int, list[tuple[str, int, str]]]] = [
    (
        "1",
        "质量",
        30,
        [
            ("质量管理体系", 10, "建立并有效运行质量管理体系，获得 GB/T 19001 等认证，实施首席质量官制度。"),
            ("产品（服务）质量水平", 12, "主要质量指标达到国内或国际先进水平，近三年监督抽查全部合格。"),
            ("标准引领", 8, "主导或参与制定国家、行业、地方或团体标准，执行高于国家标准的企业标准。"),
        ],
    ),
    (
        "2",
        "创新",
        20,
        [
            ("研发投入", 8, "研发投入占营业收入比例及增长情况，建有省级以上研发平台。"),
            ("创新成果", 7, "有效发明专利、科技奖励及成果转化情况。"),
            ("数字化转型", 5, "智能制造、工业互联网或数字化服务的应用水平。"),
        ],
    ),
    (
        "3",
        "品牌",
        15,
        [
            ("品牌知名度", 6, "品牌在国内外市场的知名度、获得的品牌荣誉。"),
            ("品牌美誉度", 5, "用户满意度、投诉处理和口碑情况。"),
            ("品牌管理", 4, "品牌战略、商标保护和品牌运营能力。"),
        ],
    ),
    (
        "4",
        "效益",
        15,
        [
            ("经济效益", 8, "营业收入、利润及其增长，纳税情况。"),
            ("市场占有率", 7, "细分市场占有率及在全国、全省的排名。"),
        ],
    ),
    (
        "5",
        "绿色发展",
        10,
        [
            ("资源节约", 5, "单位产值能耗、水耗及资源综合利用水平。"),
            ("环境友好", 5, "污染物排放达标，获得绿色工厂、绿色产品等认定。"),
        ],
    ),
    (
        "6",
        "信用与社会责任",
        10,
        [
            ("诚信经营", 5, "信用记录良好，无严重失信行为。"),
            ("社会责任", 5, "安全生产、员工权益、公益慈善和社会责任报告。"),
        ],
    ),
]

VETO_ITEMS = [
    "近三年发生重大质量、安全、环境污染事故或造成重大社会影响的事件。",
    "被列入严重违法失信名单或经营异常名录且未移出。",
    "近三年产品（服务）在国家或省级质量监督抽查中不合格。",
    "申报材料弄虚作假。",
]

CRITERIA: list[dict[str, Any]] = [
    {
        "text": "在山东省内依法注册登记满 5 年。",
        "metric": "years_registered",
        "operator": "ge",
        "threshold": Decimal("5"),
    },
    {
        "text": "上年度营业收入不低于 2000 万元。",
        "metric": "revenue",
        "operator": "ge",
        "threshold": Decimal("2000"),
    },
    {
        "text": "研发投入占营业收入比例高于 3%。",
        "metric": "rd_ratio",
        "operator": "gt",
        "threshold": Decimal("3"),
    },
    {
        "text": "细分行业全国排名前 20 位。",
        "metric": "national_rank",
        "operator": "le",
        "threshold": Decimal("20"),
        "group": "A",
    },
    {
        "text": "细分行业全省排名前 5 位。",
        "metric": "provincial_rank",
        "operator": "le",
        "threshold": Decimal("5"),
        "group": "A",
    },
    {"text": "近三年无严重失信记录。", "metric": "credit_clean", "operator": "true"},
    {"text": "近三年无产品质量监督抽查不合格记录。", "metric": "inspection_clean", "operator": "true"},
    {"text": "拥有自主品牌和有效注册商标。"},
]


def fill_rule_set(*, actor: Any, rule_set: RuleSet) -> RuleSet:
    """Add the model indicators, veto items and criteria to an empty draft."""
    position = 0
    for code, name, score, children in DIMENSIONS:
        position += 1
        dimension = services.ruleset_item_add(
            actor=actor,
            rule_set=rule_set,
            kind="indicator",
            code=code,
            name=name,
            max_score=Decimal(score),
            position=position,
        )
        for index, (child, child_score, guidance) in enumerate(children, start=1):
            position += 1
            services.ruleset_item_add(
                actor=actor,
                rule_set=rule_set,
                kind="indicator",
                code=f"{code}.{index}",
                name=child,
                max_score=Decimal(child_score),
                guidance=guidance,
                parent=dimension,
                position=position,
            )
    for index, text in enumerate(VETO_ITEMS, start=1):
        services.ruleset_item_add(
            actor=actor, rule_set=rule_set, kind="veto", code=f"F{index}", text=text, position=index
        )
    for index, criterion in enumerate(CRITERIA, start=1):
        services.ruleset_item_add(
            actor=actor, rule_set=rule_set, kind="criterion", code=f"Z{index}", position=index, **criterion
        )
    return rule_set
