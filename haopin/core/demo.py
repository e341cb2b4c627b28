"""The demo province: a deterministic, realistic 好品山东 data set to try and to measure the platform.

Two steps, kept apart so that determinism can be checked:

- ``build_plan(seed=…, scale=…)`` turns a seed into a plan of plain records. It reads only the
  reference CSV files in ``core/data`` and a ``random.Random(seed)``, never the database or the
  clock, so the same seed gives the same plan on every machine and engine (``Plan.digest``).
- ``seed(plan, password=…)`` writes the plan in one transaction. The named accounts and their
  organisations go through the services, as real use would (the admin creates the public
  bodies, ent-01 … ent-10 register themselves and are approved by their city bureau or the
  office, enterprises register their brands, the office sets tiers and source programmes), so
  the audit trail starts meaningfully. The bulk of enterprises, brands, sources and products is
  written with ``bulk_create`` in batches, each row with the "created" audit event a service
  would have written (actor: the system; client: ``manage.py seed_demo``).

``database_digest()`` computes the plan's digest from what is in the database; the two agree
after seeding, which the tests check together with the digest of a plan built in another
process (different hash seed).

Names are invented from syllable lists (no real company is named); geographical indications,
regional and industry brands use the public names of Shandong's real ones, owned here by
invented associations. Standards are real standard numbers of the right field. Contact e-mail
addresses use the reserved ``.example`` domain.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import random
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Any

from pypinyin import lazy_pinyin

from haopin.core import reference
from haopin.registry.validation import (
    make_gtin,
    make_uscc,
    normalise_standard_codes,
)

DEFAULT_PASSWORD = "demo12345"
DEFAULT_SEED = 2021
SCALES = ("normal", "large")
CLIENT = "manage.py seed_demo"

# --- reference data, from the CSV files only ----------------------------------------------------


@dataclass(frozen=True, slots=True)
class RegionRef:
    code: str
    name: str
    level: str
    parent: str

    @property
    def name_en(self) -> str:
        return reference.region_name_en(self.name, self.level)


@lru_cache(maxsize=1)
def _regions() -> dict[str, RegionRef]:
    return {
        row["code"]: RegionRef(row["code"], row["name"], row["level"], row["parent"])
        for row in reference.rows("regions_shandong.csv")
    }


@lru_cache(maxsize=1)
def _categories() -> dict[str, tuple[str, str]]:
    return {row["code"]: (row["name"], row["name_en"]) for row in reference.rows("categories.csv")}


@lru_cache(maxsize=1)
def _programmes() -> dict[str, str]:
    return {row["code"]: row["name"] for row in reference.rows("source_programmes.csv")}


def _cities() -> list[RegionRef]:
    return [r for r in _regions().values() if r.level == "city"]


@lru_cache(maxsize=32)
def _counties(city: str | None = None) -> tuple[RegionRef, ...]:
    return tuple(r for r in _regions().values() if r.level == "county" and (city is None or r.parent == city))


CITY_SHORT = {
    "370100": "济南",
    "370200": "青岛",
    "370300": "淄博",
    "370400": "枣庄",
    "370500": "东营",
    "370600": "烟台",
    "370700": "潍坊",
    "370800": "济宁",
    "370900": "泰安",
    "371000": "威海",
    "371100": "日照",
    "371300": "临沂",
    "371400": "德州",
    "371500": "聊城",
    "371600": "滨州",
    "371700": "菏泽",
}
AREA_CODES = {
    "370100": "0531",
    "370200": "0532",
    "370300": "0533",
    "370400": "0632",
    "370500": "0546",
    "370600": "0535",
    "370700": "0536",
    "370800": "0537",
    "370900": "0538",
    "371000": "0631",
    "371100": "0633",
    "371300": "0539",
    "371400": "0534",
    "371500": "0635",
    "371600": "0543",
    "371700": "0530",
}

# --- what each sub-category makes: name words, GB/T 4754 codes, products, standards ------------


@dataclass(frozen=True)
class Profile:
    words: tuple[str, ...]  # the industry part of an enterprise name
    industry: tuple[str, ...]  # GB/T 4754-2017 classes that fit
    kind: str  # goods, service or engineering
    en: str  # an English noun for descriptions
    programmes: tuple[str, ...]  # source programmes that recognise such brands
    products: tuple[tuple[str, tuple[str, ...]], ...]  # (name, specifications)
    standards: tuple[str, ...]  # standards such products are made or delivered to


# One block per sub-category: "code | name words | GB/T 4754 classes | kind | English | programmes",
# then its products ("name: specification, specification; …") and its standards (real numbers).
# In specifications {a} is an area, {l} a length, {s} a span, {v} a volume and {n} a count.
PROFILE_TABLE = """
10101 | 粮油 农业科技 米业 | A0111 A0112 C1311 | goods | grain | arpb agi tsqp
    大米: 5kg 一级, 10kg 特等; 小麦粉: 5kg 特一等, 25kg 标准粉; 小米: 2.5kg 一级
    GB/T 1354-2018, GB/T 1355-2021, GB 2715-2016
10102 | 油脂 粮油 | C1331 | goods | edible oil | sdtb tsqp arpb
    压榨花生油: 5L 一级, 1.8L 一级; 小磨香油: 400mL
    GB/T 1534-2017, GB 2716-2018
10201 | 果业 农业开发 果品 | A0151 A0152 | goods | fruit | agi arpb tsqp
    红富士苹果: 80mm 一级 5kg, 85mm 特级 10kg; 冬枣: 2.5kg 特级; 鲜桃: 5kg 一级
    GB/T 10651-2008, NY/T 1793-2009
10202 | 蔬菜 农业科技 农产品 | A0141 | goods | vegetables | agi arpb tsqp
    大葱: 5kg 一级; 大蒜: 5cm 5kg; 番茄: 5kg 一级; 黄瓜: 5kg 一级
    NY/T 1655-2008, GB 2762-2022
10301 | 牧业 食品 | A0313 C1351 | goods | meat | agi arpb tsqp
    冷鲜猪肉: 分割 1kg; 黑猪肉: 礼盒 2kg; 黄牛肉: 分割 1kg
    GB/T 9959.1-2019, GB 2707-2016
10302 | 禽业 生态农业 | A0321 | goods | eggs | agi arpb
    鲜鸡蛋: 30枚; 咸鸭蛋: 20枚
    GB 2749-2015
10401 | 海洋科技 水产 海珍品 | A0411 C1361 | goods | seafood | agi arpb tsqp
    即食海参: 500g; 淡干海参: 250g; 海带: 1kg
    GB 31602-2015, GB 2733-2015
10402 | 水产 渔业 | A0412 | goods | freshwater fish | agi arpb
    大闸蟹: 公 4两 8只; 鲤鱼: 鲜活 1kg
    GB 2733-2015
10501 | 茶业 茶叶 | A0164 C1530 | goods | tea | agi arpb tsqp
    绿茶: 250g 特级, 125g 一级; 红茶: 250g 特级
    GB/T 14456.1-2017, GB/T 13738.2-2017
10502 | 中药材 药业 | A0171 C2730 | goods | medicinal herbs | agi arpb
    金银花: 500g 一等; 丹参: 1kg 统货
    T/CACM 1021.1-2016
10503 | 花卉 园林 苗木 | A0143 | goods | flowers | agi arpb
    玫瑰鲜切花: 20枝 A级; 牡丹种苗: 三年生
    GB/T 18247.1-2000
20101 | 食品 调味品 食品工业 | C1411 C1353 C1462 | goods | processed food | chtb sdtb gqa tsqp
    酿造酱油: 500mL 特级; 米醋: 420mL; 五香扒鸡: 500g; 煎饼: 1kg
    GB/T 18186-2000, GB 2726-2016, GB 7099-2015
20102 | 酒业 酿酒 葡萄酒 | C1512 C1513 C1515 | goods | wine and spirits | chtb sdtb gi gqa
    浓香型白酒: 52%vol 500mL; 干红葡萄酒: 750mL; 原浆啤酒: 1L
    GB/T 10781.1-2021, GB/T 15037-2006, GB/T 4927-2008
20103 | 饮品 饮料 | C1522 C1523 | goods | beverages | tsqp wktm
    天然矿泉水: 550mL×24; 苹果汁: 1L
    GB 19298-2014, GB/T 31121-2014
20104 | 乳业 乳品 | C1441 | goods | dairy | tsqp gqa
    纯牛奶: 250mL×24; 风味发酵乳: 200g×12
    GB 25190-2010, GB 19302-2010
20201 | 纺织 棉纺 | C1711 C1713 | goods | textiles | srdi mfc tsqp gqa
    精梳棉纱: JC40S; 色织面料: 幅宽 150cm
    GB 18401-2010, FZ/T 12001-2015
20202 | 服饰 服装 | C1811 C1819 | goods | apparel | srdi tsqp wktm
    男士西服: 175/92A; 衬衫: 41; 汉服: M
    GB/T 2664-2017, GB 18401-2010
20203 | 家纺 | C1771 C1772 | goods | home textiles | srdi mfc tsqp
    纯棉毛巾: 34×76cm; 床品四件套: 1.8m
    GB/T 22864-2009, GB/T 22796-2021
20301 | 家居 家具 | C2110 | goods | furniture | tsqp srdi
    实木餐桌: 1.6m; 办公椅: 标准款
    GB/T 3324-2017
20302 | 电器 智能家电 | C3851 C3855 | goods | home appliances | mfc srdi gqa cqa
    变频冰箱: 500L 一级能效; 滚筒洗衣机: 10kg; 空气炸锅: 5L
    GB 4706.1-2005, GB/T 8059-2016
20303 | 日化 日用品 | C2681 C2682 | goods | household goods | tsqp srdi
    洗衣液: 2kg; 不锈钢厨具: 套装
    GB/T 13171.2-2022
20401 | 化工 石化 | C2614 C2612 | goods | chemicals | mfc srdi gqa
    工业甲醇: 优等品; 离子膜烧碱: 32%
    GB/T 338-2011, GB/T 209-2018
20402 | 新材料 材料科技 | C2651 C3073 | goods | new materials | mfc srdi cqa
    聚丙烯树脂: 注塑级; 氧化铝陶瓷基板: 114×114×1mm; 碳纤维预浸料: T700
    GB/T 12670-2008
20501 | 药业 制药 | C2720 C2740 | goods | medicines | chtb gi srdi gqa
    阿莫西林胶囊: 0.25g×24粒; 阿胶: 250g
    GB/T 19001-2016
20502 | 医疗器械 医疗科技 | C3581 C3586 | goods | medical devices | srdi mfc
    一次性使用输液器: 带针; 多参数监护仪: 12.1英寸
    GB 9706.1-2020, GB/T 42061-2022
20601 | 重工 工程机械 | C3514 | goods | construction machinery | mfc gqa cqa srdi
    液压挖掘机: 22t; 轮式装载机: 5t; 履带式推土机: 160马力
    GB/T 9139-2008
20602 | 农业装备 农机 | C3571 C3572 | goods | farm machinery | mfc srdi tsqp
    轮式拖拉机: 1204型; 玉米收获机: 4行
    GB/T 15370.1-2012
20603 | 机械 泵业 动力 | C3441 C3412 | goods | machinery | mfc srdi gqa
    离心泵: IS80-65-160; 柴油发动机: 12L; 空气压缩机: 37kW
    GB/T 5657-2013
20604 | 轨道装备 轨道交通 | C3711 C3714 | goods | rail equipment | mfc cqa gqa
    城轨车辆: B型; 动车组转向架: CRH
    GB/T 3317-2006, TB/T 3500-2018
20605 | 船舶 海洋装备 | C3731 C3737 | goods | ships | mfc srdi
    远洋渔船: LOA 60m; 海洋养殖工船: 10万吨级
    CB/T 3696-2016
20701 | 汽车 专用车 | C3611 C3612 | goods | vehicles | gqa mfc
    重型载货汽车: 6×4; 纯电动客车: 12m
    GB 7258-2017
20702 | 汽车部件 零部件 | C3670 | goods | vehicle parts | mfc srdi
    盘式制动器: 22.5英寸; 铝合金活塞: Φ95
    QC/T 29082-2019
20703 | 轮胎 橡胶 | C2911 | goods | tyres | mfc gqa wktm
    全钢子午线轮胎: 12R22.5; 半钢子午线轮胎: 205/55R16
    GB 9743-2015, GB/T 2978-2014
20801 | 电子 微电子 | C3982 C3971 | goods | electronic components | srdi mfc
    多层印制电路板: 8层; 功率半导体模块: 1200V
    GB/T 4588.4-2017
20802 | 智能科技 信息科技 | C3922 C3919 | goods | smart devices | srdi
    工业平板电脑: 12英寸; 智能门锁: 指纹款
    GB/T 36464.2-2018
20803 | 软件 信息技术 | I6513 I6511 | goods | software | srdi gqa
    工业互联网平台软件: V5.0; 政务服务系统: V3.2
    GB/T 25000.51-2016
20901 | 钢铁 特钢 | C3120 C3130 | goods | steel | mfc gqa
    热轧带肋钢筋: HRB400E Φ20; 热轧H型钢: Q355B
    GB/T 1499.2-2018, GB/T 700-2006
20902 | 铝业 有色金属 | C3216 C3252 | goods | non-ferrous metals | mfc srdi
    铝合金板带: 5052 H32; 工业铝型材: 6063-T5
    GB/T 3880.1-2023, GB/T 5237.1-2017
20903 | 建材 陶瓷 水泥 | C3011 C3071 | goods | building materials | tsqp gqa wktm
    普通硅酸盐水泥: P·O 42.5; 建筑陶瓷砖: 600×1200mm
    GB 175-2023, GB/T 4100-2015
21001 | 建工集团 建设 | E4710 E4720 | engineering | building works | gqa tsqp
    人民医院新院区工程: 建筑面积 {a} 万平方米; 科创中心工程: 建筑面积 {a} 万平方米
    GB 50300-2013, GB/T 50375-2016
21002 | 路桥 市政工程 | E4812 E4813 | engineering | municipal and transport works | gqa tsqp
    快速路高架工程: 全长 {l} 千米; 跨河大桥工程: 主跨 {s} 米
    GB 50204-2015, GB 50268-2008
21003 | 水利建设 水利工程 | E4822 E4821 | engineering | water works | gqa tsqp
    水库除险加固工程: 总库容 {v} 亿立方米; 河道综合治理工程: 治理河长 {l} 千米
    SL 176-2007, GB 50286-2013
30101 | 旅游开发 文旅 | N7852 | service | scenic area | ctdest tsqp
    景区游览服务: 国家4A级旅游景区; 研学旅行服务: 一日游
    GB/T 17775-2003
30102 | 文化创意 文化传媒 | R8810 R8890 | service | creative services | ctdest sdtb
    非遗文创设计服务: 定制; 传统风筝制作技艺体验: 两小时
    GB/T 19001-2016
30103 | 酒店管理 酒店 | H6110 | service | hotels | ctdest tsqp
    酒店住宿服务: 五星级; 会议会展服务: 千人会场
    GB/T 14308-2010
30201 | 商贸 商业连锁 | F5211 F5212 | service | retail | chtb sdtb tsqp
    连锁超市零售服务: 门店 {n} 家; 百货零售服务: 营业面积 {a} 万平方米
    GB/T 17110-2008, SB/T 10992-2013
30202 | 餐饮管理 餐饮 | H6210 | service | catering | chtb sdtb tsqp
    鲁菜餐饮服务: 门店 {n} 家; 中式快餐服务: 门店 {n} 家
    GB 31654-2021
30301 | 物流 供应链 | G5810 G5990 | service | logistics | tsqp gqa
    冷链物流服务: 冷库 {n} 万吨; 城际配送服务: 线路 {n} 条
    GB/T 24359-2021
30302 | 港口 港务 | G5532 | service | port services | gqa tsqp
    集装箱装卸服务: 泊位 {n} 个
    JT/T 1140-2017
30401 | 村镇银行 | J6621 | service | banking | tsqp
    普惠小微贷款服务: 单户 1000 万元以下
    JR/T 0092-2019
30402 | 保险代理 | J6850 | service | insurance | tsqp
    政策性农业保险服务: 种植险
    JR/T 0045-2014
30501 | 医院 健康管理 | Q8411 Q8491 | service | medical services | tsqp gqa
    健康体检服务: 个人套餐; 康复医疗服务: 住院
    WS/T 313-2019
30502 | 养老服务 康养 | Q8514 | service | elderly care | tsqp
    社区居家养老服务: 服务站点 {n} 个; 机构养老服务: 床位 {n} 张
    GB/T 35796-2017, GB/T 37276-2018
30601 | 信息技术 数字科技 | I6531 I6540 | service | IT services | tsqp srdi
    政务云运维服务: 7×24小时; 数据中心托管服务: 机柜 {n} 个
    GB/T 28827.1-2022
30602 | 检测 检验认证 | M7452 | service | testing services | tsqp
    食品安全检测服务: CMA/CNAS; 建材检测服务: CMA
    RB/T 214-2017
"""


def _table(text: str) -> list[list[str]]:
    return [[cell.strip() for cell in line.split("|")] for line in text.strip().splitlines()]


def _profiles(text: str) -> dict[str, Profile]:
    lines = text.strip().splitlines()
    profiles = {}
    for head, products, standards in zip(lines[0::3], lines[1::3], lines[2::3], strict=True):
        code, words, industry, kind, en, programmes = (cell.strip() for cell in head.split("|"))
        items = []
        for item in products.split(";"):
            name, specs = item.split(":")
            items.append((name.strip(), tuple(s.strip() for s in specs.split(","))))
        profiles[code] = Profile(
            words=tuple(words.split()),
            industry=tuple(industry.split()),
            kind=kind,
            en=en,
            programmes=tuple(programmes.split()),
            products=tuple(items),
            standards=tuple(s.strip() for s in standards.split(",")),
        )
    return profiles


PROFILES = _profiles(PROFILE_TABLE)

# How often each industry appears among enterprises (weights of level-2 categories).
CATEGORY_WEIGHTS = (
    ("101", 5), ("102", 6), ("103", 4), ("104", 4), ("105", 4),
    ("201", 12), ("202", 6), ("203", 5), ("204", 5), ("205", 4), ("206", 9), ("207", 4), ("208", 4),
    ("209", 4), ("210", 4),
    ("301", 4), ("302", 5), ("303", 3), ("304", 1), ("305", 2), ("306", 2),
)  # fmt: skip

# Geographical indications, regional and industry brands: public names of real ones, with the
# area each covers, its category, source programme, the owner's word, a product and its size.
COLLECTIVE_BRANDS = _table("""
烟台苹果 | Yantai Apple | gi | 370600 | 10201 | agi | 苹果 | 红富士苹果 | 80mm 一级
莱阳梨 | Laiyang Pear | gi | 370682 | 10201 | agi | 梨 | 莱阳茌梨 | 5kg 一级
章丘大葱 | Zhangqiu Scallion | gi | 370114 | 10202 | agi | 大葱 | 大梧桐大葱 | 5kg 一级
金乡大蒜 | Jinxiang Garlic | gi | 370828 | 10202 | agi | 大蒜 | 白皮大蒜 | 5.5cm 5kg
沾化冬枣 | Zhanhua Winter Jujube | gi | 371603 | 10201 | agi | 冬枣 | 沾化冬枣 | 2.5kg 特级
乐陵金丝小枣 | Laoling Golden-silk Jujube | gi | 371481 | 10201 | gi | 小枣 | 金丝小枣 | 1kg
肥城桃 | Feicheng Peach | gi | 370983 | 10201 | gi | 桃 | 佛桃 | 5kg 特级
日照绿茶 | Rizhao Green Tea | gi | 371100 | 10501 | gi | 茶产业 | 日照绿茶 | 250g 特级
崂山绿茶 | Laoshan Green Tea | gi | 370212 | 10501 | agi | 茶叶 | 崂山绿茶 | 250g 一级
平阴玫瑰 | Pingyin Rose | gi | 370124 | 10503 | gi | 玫瑰 | 平阴重瓣红玫瑰花蕾 | 250g
东阿阿胶 | Dong'e Ejiao | gi | 371524 | 20501 | gi | 阿胶 | 阿胶块 | 250g
威海刺参 | Weihai Sea Cucumber | gi | 371000 | 10401 | agi | 海参 | 淡干刺参 | 250g
荣成海带 | Rongcheng Kelp | gi | 371082 | 10401 | agi | 海带 | 淡干海带 | 1kg
莱芜黑猪 | Laiwu Black Pig | gi | 370116 | 10301 | agi | 黑猪 | 莱芜黑猪肉 | 分割 1kg
鲁西黄牛 | Luxi Yellow Cattle | gi | 371500 | 10301 | agi | 黄牛 | 鲁西黄牛肉 | 分割 1kg
微山麻鸭 | Weishan Sheldrake | gi | 370826 | 10302 | agi | 麻鸭 | 微山湖咸鸭蛋 | 20枚
马家沟芹菜 | Majiagou Celery | gi | 370283 | 10202 | agi | 芹菜 | 马家沟芹菜 | 5kg
大泽山葡萄 | Dazeshan Grape | gi | 370283 | 10201 | agi | 葡萄 | 玫瑰香葡萄 | 2.5kg
蒙阴蜜桃 | Mengyin Peach | gi | 371328 | 10201 | agi | 蜜桃 | 蒙阴蜜桃 | 5kg 一级
苍山大蒜 | Cangshan Garlic | gi | 371324 | 10202 | agi | 大蒜 | 苍山蒲棵大蒜 | 5kg
龙山小米 | Longshan Millet | gi | 370114 | 10101 | gi | 小米 | 龙山小米 | 2.5kg
阳信鸭梨 | Yangxin Pear | gi | 371622 | 10201 | agi | 鸭梨 | 阳信鸭梨 | 5kg 一级
滕州马铃薯 | Tengzhou Potato | gi | 370481 | 10202 | agi | 马铃薯 | 荷兰十五马铃薯 | 10kg
曹县芦笋 | Caoxian Asparagus | gi | 371721 | 10202 | agi | 芦笋 | 绿芦笋 | 1kg
明水香稻 | Mingshui Fragrant Rice | gi | 370114 | 10101 | gi | 香稻 | 明水香米 | 5kg
黄河口大闸蟹 | Yellow River Mitten Crab | gi | 370500 | 10402 | agi | 大闸蟹 | 大闸蟹 | 公 4两 8只
烟台葡萄酒 | Yantai Wine | gi | 370600 | 20102 | gi | 葡萄酒 | 干红葡萄酒 | 750mL
即墨老酒 | Jimo Rice Wine | gi | 370215 | 20102 | gi | 老酒 | 即墨老酒 | 500mL 清爽型
德州扒鸡 | Dezhou Braised Chicken | gi | 371400 | 20101 | gi | 扒鸡 | 五香脱骨扒鸡 | 500g
周村烧饼 | Zhoucun Sesame Cake | gi | 370306 | 20101 | gi | 烧饼 | 周村烧饼 | 200g
潍坊萝卜 | Weifang Radish | gi | 370700 | 10202 | agi | 萝卜 | 潍县青萝卜 | 5kg
寿光蔬菜 | Shouguang Vegetables | regional | 370783 | 102 | arpb | 蔬菜产业 | 寿光番茄 | 5kg 一级
齐鲁粮油 | Qilu Grain and Oil | regional | 370000 | 101 | arpb | 粮油行业 | 花生油 | 5L
泰山茶 | Taishan Tea | regional | 370900 | 10501 | arpb | 茶产业 | 泰山女儿茶 | 250g
沂蒙优质农产品 | Yimeng Farm Produce | regional | 371300 | 102 | arpb | 农产品 | 煎饼 | 1kg
聊胜一筹 | Liaocheng Produce | regional | 371500 | 102 | arpb | 农产品 | 冠县鸭梨 | 5kg
好客山东 | Friendly Shandong | regional | 370000 | 301 | ctdest | 旅游行业 | 旅游线路 | 五日游
仙境海岸 | Fairyland Coast | regional | 370600 | 30101 | ctdest | 旅游 | 滨海游 | 三日游
天下泉城 | City of Springs | regional | 370100 | 30101 | ctdest | 旅游 | 泉水游览线路 | 一日游
东方圣地 | Sacred Land of the East | regional | 370800 | 30101 | ctdest | 旅游 | 研学游 | 两日游
红色沂蒙 | Red Yimeng | regional | 371300 | 30101 | ctdest | 旅游 | 红色教育研学游 | 两日游
青岛家电 | Qingdao Appliances | industry | 370200 | 20302 | mfc | 家电产业 | 家电 | 整机与配套
淄博陶瓷 | Zibo Ceramics | industry | 370300 | 20903 | tsqp | 陶瓷产业 | 日用细瓷 | 56头
临沂商城 | Linyi Trade City | industry | 371300 | 30201 | sdtb | 商城 | 商贸物流服务 | 市场 {n} 处
潍坊风筝 | Weifang Kites | industry | 370700 | 30102 | ctdest | 风筝产业 | 传统风筝 | 沙燕 1.2m
曹县汉服 | Caoxian Hanfu | industry | 371721 | 20202 | tsqp | 汉服产业 | 马面裙 | M
滨州家纺 | Binzhou Home Textiles | industry | 371600 | 20203 | mfc | 家纺产业 | 纯棉毛巾 | 34×76cm
邹平铝业 | Zouping Aluminium | industry | 371681 | 20902 | mfc | 铝产业 | 铝合金板带 | 5052 H32
临清轴承 | Linqing Bearings | industry | 371581 | 20603 | srdi | 轴承产业 | 深沟球轴承 | 6205-2RS
菏泽牡丹 | Heze Peony | industry | 371700 | 10503 | agi | 牡丹产业 | 牡丹籽油 | 500mL
博兴厨具 | Boxing Kitchenware | industry | 371625 | 20303 | tsqp | 厨具产业 | 商用厨具 | 套装
济南软件 | Jinan Software | industry | 370100 | 20803 | srdi | 软件产业 | 政务服务系统 | V3.2
""")

# --- syllables for invented names --------------------------------------------------------------

FIRST = "鲁齐泰华金海瑞鸿恒宏鼎嘉润永东源泉蓝众博天昌兴祥德宝福信通盛丰康安振远正中圣岱沂琴岚"
SECOND = "丰泰源盛达信和润鑫隆昌晟诚瑞祥康宇航成洋邦汇森辰峰锦睿弘怡嘉轩"
SERIES = ["", "优选", "臻品", "金标", "经典", "尚品", "鲜享", "匠心", "源味", "国韵", "天成", "嘉品", "优品"]
SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董肖程曹袁邓许傅沈曾彭吕苏卢蒋蔡"
    "贾丁魏薛叶闫余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段"
)
GIVEN = (
    "建国华明伟强军平海东志红丽芳静敏燕霞磊洋勇杰涛斌超鹏辉刚峰"
    "波宁林文玉春秋雪梅兰英庆德福荣晓晨宇浩凯鑫悦欣琳颖婷倩蕾"
)
ROADS = (
    "经十", "工业", "科技", "新华", "人民", "建设", "胜利", "黄河", "泰山", "和平", "长江", "滨海", "富民",
    "振兴", "创业", "开元", "东风", "青年", "文化", "学府", "花园", "迎宾", "府前", "朝阳", "解放", "中山",
)  # fmt: skip
ROAD_SUFFIXES = ("路", "街", "大道", "东路", "西路", "北路", "南路")
FORMS = (("有限公司", 60), ("股份有限公司", 25), ("集团有限公司", 15))
SIZES = (("large", 8), ("medium", 25), ("small", 45), ("micro", 22))
TIERS = (("pool", 60), ("member", 32), ("benchmark", 8))
STATUSES = (("active", 970), ("suspended", 15), ("revoked", 10), ("exited", 5))
COLLECTIVE_TIERS = (("member", 6), ("benchmark", 3), ("pool", 1))
TRADEMARK_COUNTS = (("1", 6), ("2", 3), ("3", 1))
TITLES = (("senior", 6), ("associate", 3), ("intermediate", 1))


@cache
def _cumulative(pairs: tuple[tuple[str, int], ...]) -> tuple[tuple[str, ...], tuple[int, ...]]:
    return tuple(p for p, _ in pairs), tuple(itertools.accumulate(w for _, w in pairs))


TYPE_EN = {
    "product": "product brand",
    "enterprise": "enterprise brand",
    "industry": "industry brand",
    "regional": "regional brand",
    "gi": "geographical indication brand",
}
TYPE_ZH = {
    "product": "产品品牌",
    "enterprise": "企业品牌",
    "industry": "产业品牌",
    "regional": "区域品牌",
    "gi": "地理标志品牌",
}
TIER_ZH = {
    "pool": "已列入“好品山东”培育库",
    "member": "为“好品山东”品牌",
    "benchmark": "为“好品山东”标杆品牌",
}
TIER_EN = {
    "pool": "It is in the Good Products Shandong cultivation pool.",
    "member": "It is a Good Products Shandong brand.",
    "benchmark": "It is a Good Products Shandong benchmark brand.",
}

# --- the plan ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OrganisationSpec:
    key: str
    name: str
    short_name: str
    kind: str
    region: str
    uscc: str
    categories: tuple[str, ...] = ()
    programmes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class AccountSpec:
    username: str
    full_name: str
    organisation: str  # OrganisationSpec.key; "" for the admin and experts
    role: str  # membership role; "" for the admin and experts
    role_zh: str
    role_en: str
    superuser: bool = False


@dataclass(frozen=True, slots=True)
class EnterpriseSpec:
    uscc: str
    name: str
    region: str
    legal_representative: str
    address: str
    founded_on: dt.date
    industry_code: str
    size: str
    contact_name: str
    contact_phone: str
    contact_email: str
    account: str = ""  # the username of its manager when it has a platform account
    approver: str = ""  # who approves its registration


@dataclass(frozen=True, slots=True)
class SourceSpec:
    programme: str
    certificate_number: str
    year: int


@dataclass(frozen=True, slots=True)
class BrandSpec:
    owner: str  # owner's USCC
    name: str
    name_en: str
    brand_type: str
    category: str
    region: str
    tier: str
    status: str
    trademarks: tuple[str, ...]
    description: str
    description_en: str
    sources: tuple[SourceSpec, ...]


@dataclass(frozen=True, slots=True)
class ProductSpec:
    owner: str  # owner's USCC
    brand: str  # brand name (unique per owner)
    kind: str
    name: str
    specification: str
    standard_codes: tuple[str, ...]
    gtin: str | None
    description: str


@dataclass(frozen=True, slots=True)
class ExpertSpec:
    username: str
    full_name: str
    employer: str
    employer_uscc: str
    region: str
    title: str
    specialities: tuple[str, ...]
    phone: str


@dataclass
class Plan:
    seed: int
    scale: str
    organisations: list[OrganisationSpec] = field(default_factory=list)
    accounts: list[AccountSpec] = field(default_factory=list)
    enterprises: list[EnterpriseSpec] = field(default_factory=list)
    brands: list[BrandSpec] = field(default_factory=list)
    products: list[ProductSpec] = field(default_factory=list)
    experts: list[ExpertSpec] = field(default_factory=list)

    def rows(self) -> Iterator[tuple[Any, ...]]:
        """Names and codes of everything the plan creates, in the shape ``database_rows`` reads."""
        org_names = {o.key: o.name for o in self.organisations}
        for o in self.organisations:
            yield (
                "org",
                o.kind,
                o.name,
                o.region,
                o.uscc,
                tuple(sorted(o.categories)),
                tuple(sorted(o.programmes)),
            )
        account_org = {}
        for e in self.enterprises:
            if e.account:
                yield ("org", "enterprise", e.name, e.region, e.uscc, (), ())
                account_org[e.account] = e.name
        for a in self.accounts:
            org = org_names.get(a.organisation, "") or account_org.get(a.username, "")
            yield ("user", a.username, a.full_name, org, a.role, a.superuser)
        for e in self.enterprises:
            yield (
                "enterprise",
                e.uscc,
                e.name,
                e.region,
                e.legal_representative,
                e.address,
                e.founded_on.isoformat(),
                e.industry_code,
                e.size,
                e.contact_name,
                e.contact_phone,
                e.contact_email,
                e.name if e.account else "",
            )
        for b in self.brands:
            sources = tuple(sorted((s.programme, s.certificate_number, s.year) for s in b.sources))
            yield (
                "brand",
                b.owner,
                b.name,
                b.name_en,
                b.brand_type,
                b.category,
                b.region,
                b.tier,
                b.status,
                tuple(b.trademarks),
                sources,
            )
        for p in self.products:
            yield (
                "product",
                p.owner,
                p.brand,
                p.kind,
                p.name,
                p.specification,
                tuple(p.standard_codes),
                p.gtin or "",
            )
        for x in self.experts:
            yield (
                "expert",
                x.username,
                x.employer,
                x.employer_uscc,
                x.region,
                x.title,
                tuple(sorted(x.specialities)),
            )

    def digest(self) -> str:
        return digest_rows(self.rows())


def digest_rows(rows: Iterable[tuple[Any, ...]]) -> str:
    """SHA-256 of the sorted rows: independent of insertion order and primary keys."""
    lines = sorted(repr(row) for row in rows)
    sha = hashlib.sha256()
    for line in lines:
        sha.update(line.encode())
        sha.update(b"\n")
    return sha.hexdigest()


# --- plan builder ------------------------------------------------------------------------------


class _Builder:
    def __init__(self, seed: int, scale: str):
        if scale not in SCALES:
            raise ValueError(f"scale must be one of {SCALES}")
        self.rng = random.Random(seed)
        self.plan = Plan(seed=seed, scale=scale)
        self.used_serials: set[int] = set()
        self.used_prefixes: set[int] = set()
        self.used_names: set[str] = set()
        self.cert_counter = 0
        self.last_zihao = ""
        self.regions = _regions()
        self.categories = _categories()
        self.leaf_by_group: dict[str, list[str]] = {}
        for code in PROFILES:
            self.leaf_by_group.setdefault(code[:3], []).append(code)

    # small helpers -----------------------------------------------------------------------------
    def weighted(self, pairs: tuple[tuple[str, int], ...]) -> str:
        population, cumulative = _cumulative(pairs)
        return self.rng.choices(population, cum_weights=cumulative)[0]

    def person(self) -> str:
        given = self.rng.choice(GIVEN) + (self.rng.choice(GIVEN) if self.rng.random() < 0.7 else "")
        return self.rng.choice(SURNAMES) + given

    def mobile(self) -> str:
        return f"1{self.rng.choice('35789')}{self.rng.randrange(10**9):09d}"

    def phone(self, city: str) -> str:
        if self.rng.random() < 0.4:
            return f"{AREA_CODES[city]}-{self.rng.randrange(6, 9)}{self.rng.randrange(10**6, 10**7)}"
        return self.mobile()

    def serial(self) -> int:
        while True:
            value = self.rng.randrange(10**8, 10**9)
            if value not in self.used_serials:
                self.used_serials.add(value)
                return value

    def gs1_prefix(self) -> str:
        """A GS1 company prefix in China's range 690–699 (seven digits, five-digit item numbers)."""
        while True:
            value = self.rng.randrange(100_000)
            if value not in self.used_prefixes:
                self.used_prefixes.add(value)
                return f"69{value:05d}"

    def zihao(self) -> str:
        first = self.rng.choice(FIRST)
        second = self.rng.choice(SECOND)
        return first + (second if second != first else "晟")

    def place(self, county: RegionRef) -> str:
        # County-level cities and counties often name their own enterprises; districts use the city.
        if county.name.endswith(("县", "市")) and self.rng.random() < 0.35:
            stem = county.name[:-1]
            return stem if len(stem) >= 2 else county.name
        return CITY_SHORT[county.parent]

    def address(self, county: RegionRef) -> str:
        city = self.regions[county.parent]
        road = self.rng.choice(ROADS) + self.rng.choice(ROAD_SUFFIXES)
        zone = "经济开发区" if self.rng.random() < 0.25 else ""
        return f"山东省{city.name}{county.name}{zone}{road}{self.rng.randrange(1, 3000)}号"

    def email(self, name: str) -> str:
        slug = _word(name[:2]).lower().replace("'", "")
        return f"contact{self.rng.randrange(100, 999)}@{slug}.example"

    def certificate(self, programme: str, year: int) -> str:
        self.cert_counter += 1
        n = self.cert_counter % 900 + 10
        return {
            "cqa": f"国市监质〔{year}〕{n}号",
            "gqa": f"鲁政字〔{year}〕{n}号",
            "chtb": f"商流通函〔{year}〕{n}号",
            "sdtb": f"鲁商字〔{year}〕{n}号",
            "gi": f"国家知识产权局公告第{n + 200}号",
            "agi": f"AGI{self.cert_counter % 90000 + 1000:05d}",
            "arpb": f"鲁农市字〔{year}〕{n}号",
            "tsqp": f"TSQP-{year}-{self.cert_counter % 10000:04d}",
            "srdi": f"工信部企业函〔{year}〕{n}号",
            "mfc": f"工信部联政法函〔{year}〕{n}号",
            "wktm": f"商标驰字〔{year}〕第{n}号",
            "ctdest": f"鲁文旅发〔{year}〕{n}号",
        }[programme]

    def trademarks(self) -> tuple[str, ...]:
        count = self.weighted(TRADEMARK_COUNTS)
        return tuple(str(self.rng.randrange(1_000_000, 60_000_000)) for _ in range(int(count)))

    def standards(self, profile: Profile) -> tuple[str, ...]:
        codes = list(
            self.rng.sample(profile.standards, k=min(len(profile.standards), self.rng.randint(1, 2)))
        )
        if self.rng.random() < 0.35:
            codes.append(f"DB37/T {self.rng.randrange(1000, 4800)}-{self.rng.randrange(2015, 2024)}")
        if self.rng.random() < 0.3:
            codes.append(f"T/SDAQI {self.rng.randrange(1, 120):03d}-{self.rng.randrange(2021, 2025)}")
        return tuple(dict.fromkeys(_standard(code) for code in codes))

    def specification(self, template: str, place: str = "") -> str:
        return template.format(
            a=f"{self.rng.randrange(30, 400) / 10:.1f}",
            l=f"{self.rng.randrange(15, 300) / 10:.1f}",
            s=f"{self.rng.randrange(120, 800)}",
            v=f"{self.rng.randrange(5, 90) / 10:.1f}",
            n=f"{self.rng.randrange(3, 300)}",
        )

    def leaf_category(self) -> str:
        group = self.weighted(CATEGORY_WEIGHTS)
        return self.rng.choice(self.leaf_by_group[group])

    def county_in(self, city: str) -> RegionRef:
        return self.rng.choice(_counties(city))

    # records -----------------------------------------------------------------------------------
    def enterprise(
        self,
        *,
        county: RegionRef,
        category: str,
        name: str = "",
        account: str = "",
        approver: str = "",
        authority: str = "9",
        kind: str = "1",
        industry: str = "",
        size: str = "",
    ) -> EnterpriseSpec:
        profile = PROFILES.get(category)
        if not name:
            assert profile is not None
            for _ in range(1000):
                form = self.weighted(FORMS)
                word = self.rng.choice(profile.words)
                self.last_zihao = self.zihao()
                name = f"{self.place(county)}{self.last_zihao}{word}{form if word != '医院' else '有限公司'}"
                if name not in self.used_names:
                    break
        self.used_names.add(name)
        size = size or self.weighted(SIZES)
        oldest = {"large": 1956, "medium": 1985, "small": 1995, "micro": 2005}[size]
        founded = dt.date(
            self.rng.randrange(oldest, 2020), self.rng.randrange(1, 13), self.rng.randrange(1, 29)
        )
        industry = industry or (self.rng.choice(profile.industry) if profile else "")
        return EnterpriseSpec(
            uscc=make_uscc(county.code, self.serial(), authority=authority, kind=kind),
            name=name,
            region=county.code,
            legal_representative=self.person(),
            address=self.address(county),
            founded_on=founded,
            industry_code=industry,
            size=size,
            contact_name=self.person(),
            contact_phone=self.phone(county.parent),
            contact_email=self.email(name[2:] if len(name) > 4 else name),
            account=account,
            approver=approver,
        )

    def description(
        self,
        *,
        name: str,
        name_en: str,
        brand_type: str,
        category: str,
        region: str,
        owner: str,
        tier: str,
        products: list[str],
        profile_en: str,
    ) -> tuple[str, str]:
        region_ref = self.regions[region]
        if region_ref.level == "county":
            area = self.regions[region_ref.parent].name + region_ref.name
        else:
            area = region_ref.name
        where = "Shandong" if region_ref.level == "province" else f"{_region_en(region)}, Shandong"
        cat_name = self.categories[category][0]
        zh = (
            f"{name}是{owner}的{TYPE_ZH[brand_type]}，属{cat_name}类，立足{area}，"
            f"主要产品和服务有{'、'.join(products)}。{name}{TIER_ZH[tier]}。"
        )
        article = "an" if TYPE_EN[brand_type][0] in "aeiou" else "a"
        en = f"{name_en} is {article} {TYPE_EN[brand_type]} of {profile_en} from {where}. " + TIER_EN[tier]
        return zh, en

    def sources(
        self, profile: Profile | None, tier: str, programmes: tuple[str, ...]
    ) -> tuple[SourceSpec, ...]:
        chance = {"pool": 0.3, "member": 0.85, "benchmark": 1.0}[tier]
        if not programmes or self.rng.random() >= chance:
            return ()
        pool = [p for p in programmes if p != "cqa" or tier == "benchmark"]
        count = 2 if tier == "benchmark" and len(pool) > 1 and self.rng.random() < 0.4 else 1
        chosen = sorted(self.rng.sample(pool, k=count))
        result = []
        for programme in chosen:
            year = self.rng.randrange(2006, 2024)
            result.append(SourceSpec(programme, self.certificate(programme, year), year))
        return tuple(result)

    def company_brands(
        self,
        owner: EnterpriseSpec,
        category: str,
        count: int,
        *,
        products_each: tuple[int, int],
        tier: str = "",
        zihao: str = "",
        with_enterprise_brand: bool = True,
    ) -> None:
        """``count`` brands of a company: product brands named after its trade name, and an
        enterprise brand (its trade name plus its industry word) when it has more than one."""
        profile = PROFILES[category]
        zihao = zihao or _trade_name(owner.name)
        # (name, English name, type)
        names: list[tuple[str, str, str]] = []
        if with_enterprise_brand and count > 1:
            names.append((zihao + profile.words[0], f"{_word(zihao)} {profile.en.title()}", "enterprise"))
        series = list(SERIES)
        self.rng.shuffle(series)
        series.sort(key=lambda s: s != "")  # the plain trade name first
        for suffix in series[: count - len(names)]:
            names.append(
                (zihao + suffix, " ".join(_word(part) for part in (zihao, suffix) if part), "product")
            )
        prefix = self.gs1_prefix() if profile.kind == "goods" else ""
        item = 0
        for name, name_en, brand_type in names:
            brand_tier = tier or self.weighted(TIERS)
            status = self.weighted(STATUSES) if not owner.account else "active"
            picks = self.rng.sample(
                profile.products, k=min(len(profile.products), self.rng.randint(*products_each))
            )
            product_names = [p for p, _ in picks]
            zh, en = self.description(
                name=name,
                name_en=name_en,
                brand_type=brand_type,
                category=category,
                region=owner.region,
                owner=owner.name,
                tier=brand_tier,
                products=product_names,
                profile_en=profile.en,
            )
            self.plan.brands.append(
                BrandSpec(
                    owner=owner.uscc,
                    name=name,
                    name_en=name_en,
                    brand_type=brand_type,
                    category=category,
                    region=owner.region,
                    tier=brand_tier,
                    status=status,
                    trademarks=self.trademarks(),
                    description=zh,
                    description_en=en,
                    sources=self.sources(profile, brand_tier, profile.programmes),
                )
            )
            for product_name, specs in picks:
                spec = self.specification(self.rng.choice(specs))
                gtin = None
                if prefix:
                    item += 1
                    gtin = make_gtin(prefix, item)
                if profile.kind == "engineering":
                    product_name = self.place(self.regions[owner.region]) + product_name
                self.plan.products.append(
                    ProductSpec(
                        owner=owner.uscc,
                        brand=name,
                        kind=profile.kind,
                        name=product_name,
                        specification=spec,
                        standard_codes=self.standards(profile),
                        gtin=gtin,
                        description=f"{name}{product_name}，{spec}。",
                    )
                )

    # the province ------------------------------------------------------------------------------
    def public_bodies(self) -> None:
        orgs = self.plan.organisations
        province = "370000"

        def gov(region: str) -> str:
            return make_uscc(region, self.serial(), authority="1", kind="1")

        orgs.append(
            OrganisationSpec(
                "office", "山东省质量强省工作领导小组办公室", "质量强省办", "office", province, gov(province)
            )
        )
        departments = [
            ("agri", "山东省农业农村厅", "农业农村厅", ("1",), ("agi", "arpb", "gi")),
            (
                "industry",
                "山东省工业和信息化厅",
                "工信厅",
                ("201", "202", "203", "204", "205", "206", "207", "208", "209"),
                ("srdi", "mfc"),
            ),
            ("commerce", "山东省商务厅", "商务厅", ("302",), ("chtb", "sdtb")),
            ("culture", "山东省文化和旅游厅", "文旅厅", ("301",), ("ctdest",)),
            ("housing", "山东省住房和城乡建设厅", "住建厅", ("210",), ()),
        ]
        for key, name, short, categories, programmes in departments:
            orgs.append(
                OrganisationSpec(
                    key, name, short, "department", province, gov(province), categories, programmes
                )
            )
        for city in _cities():
            orgs.append(
                OrganisationSpec(
                    f"city-{city.code}",
                    f"{city.name}市场监督管理局",
                    f"{CITY_SHORT[city.code]}市场监管局",
                    "city_bureau",
                    city.code,
                    gov(city.code),
                )
            )
        for code in COUNTY_BUREAUS:
            county = self.regions[code]
            city = self.regions[county.parent]
            name = (
                f"{county.name}市场监督管理局"
                if county.name.endswith("市")
                else f"{city.name}{county.name}市场监督管理局"
            )
            orgs.append(
                OrganisationSpec(
                    f"county-{code}", name, f"{county.name}市场监管局", "county_bureau", code, gov(code)
                )
            )
        orgs.append(
            OrganisationSpec(
                "evaluation",
                "山东省质量评价协会",
                "质量评价协会",
                "evaluation_body",
                "370102",
                make_uscc("370102", self.serial(), authority="5", kind="1"),
            )
        )
        orgs.append(
            OrganisationSpec(
                "lab",
                "山东省产品质量检验研究院",
                "省质检院",
                "lab",
                "370102",
                make_uscc("370102", self.serial(), authority="1", kind="2"),
            )
        )

    def staff_accounts(self) -> None:
        accounts = self.plan.accounts
        accounts.append(
            AccountSpec("admin", "平台管理员", "", "", "平台管理员", "Platform admin", superuser=True)
        )
        for username, org, role, zh, en in STAFF_ACCOUNTS:
            accounts.append(AccountSpec(username, self.person(), org, role, zh, en))

    def experts(self, enterprises: dict[str, EnterpriseSpec]) -> None:
        groups = sorted({code[:3] for code in PROFILES})
        for index in range(1, 21):
            username = f"expert-{index:02d}"
            if index in EXPERT_EMPLOYED_BY:
                ent = enterprises[EXPERT_EMPLOYED_BY[index]]
                employer, uscc, region = ent.name, ent.uscc, ent.region
            else:
                employer, region = EXPERT_EMPLOYERS[(index - 1) % len(EXPERT_EMPLOYERS)]
                uscc = make_uscc(region, self.serial(), authority="1", kind="2")
            specialities = tuple(sorted(self.rng.sample(groups, k=self.rng.randint(1, 3))))
            title = self.weighted(TITLES)
            full_name = self.person()
            self.plan.experts.append(
                ExpertSpec(username, full_name, employer, uscc, region, title, specialities, self.mobile())
            )
            self.plan.accounts.append(AccountSpec(username, full_name, "", "", "评审专家", "Expert"))

    def named_enterprises(self) -> dict[str, EnterpriseSpec]:
        named: dict[str, EnterpriseSpec] = {}
        for (
            username,
            name,
            county,
            category,
            industry,
            size,
            approver,
            count,
            tier,
            programme,
        ) in NAMED_ENTERPRISES:
            spec = self.enterprise(
                county=self.regions[county],
                category=category,
                name=name,
                account=username,
                approver=approver,
                industry=industry,
                size=size,
            )
            self.plan.enterprises.append(spec)
            self.plan.accounts.append(
                AccountSpec(username, spec.contact_name, "", "manager", "企业管理员", "Enterprise manager")
            )
            start = len(self.plan.brands)
            self.company_brands(spec, category, int(count), products_each=(2, 3), tier="pool")
            # The first brand carries the enterprise's distinction; the office sets its tier.
            first = self.plan.brands[start]
            year = 2012 + len(named)
            self.plan.brands[start] = _replace(
                first,
                tier=tier,
                sources=(SourceSpec(programme, self.certificate(programme, year), year),)
                if programme
                else (),
                description=first.description.replace(TIER_ZH["pool"], TIER_ZH[tier]),
                description_en=first.description_en.replace(TIER_EN["pool"], TIER_EN[tier]),
            )
            named[username] = spec
        return named

    def collective_brands(self) -> None:
        """Owners of GI, regional and industry brands: associations and public institutions."""
        for name, name_en, brand_type, region, category, programme, word, product, spec in COLLECTIVE_BRANDS:
            area = self.regions[region]
            if area.level == "county":
                county = area
            else:  # a city's or the province's association sits in one of its districts
                county = self.rng.choice(_counties(region if area.level == "city" else "370100"))
            prefix = area.name if area.level != "province" else "山东省"
            owner_name = f"{prefix}{word}协会" if self.rng.random() < 0.8 else f"{prefix}{word}发展服务中心"
            authority, kind = ("5", "1") if owner_name.endswith("协会") else ("1", "2")
            leaf = category if category in PROFILES else self.leaf_by_group[category[:3]][0]
            owner = self.enterprise(
                county=county,
                category=leaf,
                name=owner_name,
                authority=authority,
                kind=kind,
                industry="S9522" if authority == "5" else "M7511",
                size="micro",
            )
            self.plan.enterprises.append(owner)
            tier = self.weighted(COLLECTIVE_TIERS)
            year = self.rng.randrange(2008, 2023)
            profile = PROFILES[leaf]
            zh, en = self.description(
                name=name,
                name_en=name_en,
                brand_type=brand_type,
                category=category,
                region=region,
                owner=owner_name,
                tier=tier,
                products=[product],
                profile_en=profile.en,
            )
            self.plan.brands.append(
                BrandSpec(
                    owner=owner.uscc,
                    name=name,
                    name_en=name_en,
                    brand_type=brand_type,
                    category=category,
                    region=region,
                    tier=tier,
                    status="active",
                    trademarks=self.trademarks(),
                    description=zh,
                    description_en=en,
                    sources=(SourceSpec(programme, self.certificate(programme, year), year),),
                )
            )
            spec = self.specification(spec)
            self.plan.products.append(
                ProductSpec(
                    owner=owner.uscc,
                    brand=name,
                    kind=profile.kind,
                    name=product,
                    specification=spec,
                    standard_codes=self.standards(profile),
                    gtin=None,
                    description=f"{name}{product}，{spec}。",
                )
            )

    def companies(self, count: int, *, brands: tuple[int, int], products_each: tuple[int, int]) -> None:
        cities = _cities()
        for index in range(count):
            city = cities[index % len(cities)]  # every city gets its share
            county = self.county_in(city.code)
            category = self.leaf_category()
            owner = self.enterprise(county=county, category=category)
            self.plan.enterprises.append(owner)
            self.company_brands(
                owner, category, self.rng.randint(*brands), products_each=products_each, zihao=self.last_zihao
            )

    def large(self, enterprises: int, brands: int) -> None:
        """``enterprises`` more companies holding exactly ``brands`` brands, one product each."""
        counts = [brands // enterprises] * enterprises
        for index in self.rng.sample(range(enterprises), k=brands - sum(counts)):
            counts[index] += 1
        cities = _cities()
        for index, count in enumerate(counts):
            city = cities[index % len(cities)]
            county = self.county_in(city.code)
            category = self.leaf_category()
            owner = self.enterprise(county=county, category=category)
            self.plan.enterprises.append(owner)
            self.company_brands(owner, category, count, products_each=(1, 1), zihao=self.last_zihao)


def _replace(spec: BrandSpec, **changes: Any) -> BrandSpec:
    from dataclasses import replace

    return replace(spec, **changes)


def _trade_name(enterprise_name: str) -> str:
    """The trade name (字号) of an invented enterprise name: the two characters after the place."""
    for place in sorted(set(CITY_SHORT.values()), key=len, reverse=True):
        if enterprise_name.startswith(place):
            return enterprise_name[len(place) : len(place) + 2]
    for county in _counties():
        stem = county.name[:-1] if len(county.name) > 2 else county.name
        if enterprise_name.startswith(stem):
            return enterprise_name[len(stem) : len(stem) + 2]
    return enterprise_name[2:4]


@cache
def _word(chinese: str) -> str:
    """Hanyu pinyin as one capitalised word (鲁润 → Lurun, 天安 → Tian'an); cached, pypinyin is slow."""
    syllables = lazy_pinyin(chinese)
    word = syllables[0] + "".join(("'" + s) if s and s[0] in "aoe" else s for s in syllables[1:])
    return word.capitalize()


@cache
def _region_en(code: str) -> str:
    return _regions()[code].name_en


@cache
def _standard(code: str) -> str:
    return normalise_standard_codes([code])[0]


COUNTY_BUREAUS = (
    "370102",
    "370112",
    "370114",
    "370212",
    "370211",
    "370215",
    "370303",
    "370614",
    "370783",
    "370881",
    "371302",
    "371681",
)

# (username, organisation key, membership role, role in Chinese, role in English)
STAFF_ACCOUNTS = [
    ("office", "office", "manager", "省质量强省办管理员", "Provincial office manager"),
    ("office-viewer", "office", "readonly", "省质量强省办（只读）", "Provincial office, read-only"),
    ("dept-agri", "agri", "manager", "农业农村厅管理员", "Agriculture department manager"),
    ("dept-industry", "industry", "manager", "工业和信息化厅管理员", "Industry department manager"),
    ("dept-commerce", "commerce", "manager", "商务厅管理员", "Commerce department manager"),
    ("dept-culture", "culture", "manager", "文化和旅游厅管理员", "Culture and tourism department manager"),
    ("dept-housing", "housing", "manager", "住房和城乡建设厅管理员", "Housing department manager"),
    ("city-jinan", "city-370100", "staff", "济南市市场监管局经办人", "Jinan city bureau staff"),
    ("city-qingdao", "city-370200", "staff", "青岛市市场监管局经办人", "Qingdao city bureau staff"),
    ("county-lixia", "county-370102", "staff", "历下区市场监管局经办人", "Lixia county bureau staff"),
]

# The ten enterprises with accounts: (username, name, county, category, GB/T 4754, size,
# approver of the registration, number of brands, tier of the first brand, its programme).
NAMED_ENTERPRISES = _table("""
ent-01 | 济南鲁润食品有限公司 | 370112 | 20101 | C1462 | medium | city-jinan | 2 | member | sdtb
ent-02 | 济南汇泉软件股份有限公司 | 370102 | 20803 | I6513 | medium | city-jinan | 1 | pool |
ent-03 | 青岛海辰电器股份有限公司 | 370211 | 20302 | C3851 | large | city-qingdao | 2 | benchmark | mfc
ent-04 | 青岛崂峰茶业有限公司 | 370212 | 10501 | A0164 | small | city-qingdao | 1 | member | agi
ent-05 | 淄博华瓷新材料股份有限公司 | 370303 | 20402 | C3073 | medium | office | 1 | member | srdi
ent-06 | 烟台金岸葡萄酒有限公司 | 370614 | 20102 | C1515 | medium | office | 2 | member | gi
ent-07 | 潍坊丰泰农业装备有限公司 | 370702 | 20602 | C3571 | large | office | 1 | member | tsqp
ent-08 | 济宁鼎力工程机械有限公司 | 370811 | 20601 | C3514 | large | office | 2 | benchmark | gqa
ent-09 | 临沂通达物流有限公司 | 371302 | 30301 | G5810 | medium | office | 1 | pool |
ent-10 | 德州福盛斋食品有限公司 | 371402 | 20101 | C1353 | small | office | 1 | member | chtb
""")

EXPERT_EMPLOYERS = [
    ("山东大学", "370102"),
    ("中国海洋大学", "370202"),
    ("山东农业大学", "370902"),
    ("青岛农业大学", "370214"),
    ("齐鲁工业大学", "370113"),
    ("山东理工大学", "370303"),
    ("青岛科技大学", "370212"),
    ("山东省农业科学院", "370112"),
    ("山东省标准化研究院", "370102"),
    ("山东省计量科学研究院", "370102"),
    ("山东建筑大学", "370112"),
    ("山东财经大学", "370102"),
    ("山东中医药大学", "370113"),
    ("烟台大学", "370613"),
    ("曲阜师范大学", "370881"),
    ("聊城大学", "371502"),
    ("临沂大学", "371302"),
    ("济南大学", "370103"),
]
# Two experts work for demo enterprises, so that conflict-of-interest avoidance has cases.
EXPERT_EMPLOYED_BY = {19: "ent-03", 20: "ent-08"}

SCALE_SIZES = {
    # companies beyond the named and collective ones, brands per company, products per brand
    "normal": (380, (1, 3), (1, 3)),
    "large": (380, (1, 3), (1, 3)),
}
LARGE_ENTERPRISES = 30_000
LARGE_BRANDS = 100_000


def build_plan(*, seed: int = DEFAULT_SEED, scale: str = "normal") -> Plan:
    """The demo province for ``seed`` at ``scale`` (normal: the demo; large: the same plus
    100,000 brands of 30,000 more enterprises, one product each, for benchmarks)."""
    builder = _Builder(seed, scale)
    builder.public_bodies()
    builder.staff_accounts()
    named = builder.named_enterprises()
    builder.experts(named)
    builder.collective_brands()
    companies, brands, products = SCALE_SIZES[scale]
    builder.companies(companies, brands=brands, products_each=products)
    if scale == "large":
        builder.large(LARGE_ENTERPRISES, LARGE_BRANDS)
    return builder.plan


# --- writing the plan --------------------------------------------------------------------------


@dataclass
class SeedReport:
    organisations: int = 0
    users: int = 0
    enterprises: int = 0
    brands: int = 0
    products: int = 0
    experts: int = 0
    audit_events: int = 0
    seconds: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)


class _Refs:
    """Reference rows by code, loaded once (the seed must not query them per row)."""

    def __init__(self) -> None:
        from haopin.core.models import BrandType, Category, Region, SourceProgramme, Tier

        self.regions = {r.code: r for r in Region.objects.all()}
        self.categories = {c.code: c for c in Category.objects.all()}
        self.brand_types = {b.code: b for b in BrandType.objects.all()}
        self.tiers = {t.code: t for t in Tier.objects.all()}
        self.programmes = {p.code: p for p in SourceProgramme.objects.all()}


def seed(plan: Plan, *, password: str = DEFAULT_PASSWORD, progress: Any = None) -> SeedReport:
    """Write ``plan`` in one transaction. The database must hold no organisations yet."""
    from django.conf import settings
    from django.contrib.auth.hashers import make_password
    from django.db import transaction
    from django.test.utils import override_settings

    from haopin.accounts.models import Organisation, User
    from haopin.core import context
    from haopin.core.errors import ConflictError
    from haopin.core.models import AuditHead
    from haopin.search import index as search_index

    started = time.perf_counter()
    report = SeedReport()
    say = progress or (lambda message: None)
    with context.bind(client_ip=CLIENT), transaction.atomic():
        if Organisation.objects.exists():
            raise ConflictError("数据库中已有单位数据，演示数据只能写入空数据库。")
        head_before = AuditHead.objects.filter(pk=1).values_list("seq", flat=True).first() or 0
        refs = _Refs()
        writer = _Writer(plan, refs, password, report)
        phase = time.perf_counter()
        # Argon2 costs 0.15-0.35 s per hash by design, and the 41 demo accounts share one
        # password: the services store a cheap hash while seeding, then every demo account
        # gets the same single hash made with the configured hasher.
        with override_settings(PASSWORD_HASHERS=[SEED_HASHER, *settings.PASSWORD_HASHERS]):
            writer.named()
        User.objects.filter(username__in=[a.username for a in plan.accounts]).update(
            password=make_password(password)
        )
        report.phases["named"] = time.perf_counter() - phase
        say(f"账户与单位已创建 / accounts and organisations created ({report.phases['named']:.1f} s)")
        phase = time.perf_counter()
        writer.bulk(say)
        report.phases["bulk"] = time.perf_counter() - phase
        phase = time.perf_counter()
        # The named records went through the services, which indexed them; the bulk did not.
        # Rebuilding the registry's kinds streams each table once (the database was empty).
        search_index.rebuild(["registry.enterprise", "registry.brand", "registry.product"])
        report.phases["search"] = time.perf_counter() - phase
        say(f"搜索索引 / search index ({report.phases['search']:.1f} s)")
        report.audit_events = (AuditHead.objects.values_list("seq", flat=True).get(pk=1)) - head_before
    from haopin.core.bulk import refresh_statistics
    from haopin.core.models import AuditEvent
    from haopin.registry.models import Brand, BrandSource, Enterprise, Product

    refresh_statistics(Enterprise, Brand, BrandSource, Product, AuditEvent)
    report.seconds = time.perf_counter() - started
    return report


class _Writer:
    def __init__(self, plan: Plan, refs: _Refs, password: str, report: SeedReport):
        self.plan = plan
        self.refs = refs
        self.password = password
        self.report = report
        self.users: dict[str, Any] = {}
        self.orgs: dict[str, Any] = {}
        self.named_owners = {e.uscc for e in plan.enterprises if e.account}
        self.programme_codes = {p.pk: code for code, p in refs.programmes.items()}

    # named accounts, through the services ------------------------------------------------------
    def named(self) -> None:
        from haopin.accounts import services as accounts
        from haopin.accounts.models import User
        from haopin.core import audit

        admin_spec = next(a for a in self.plan.accounts if a.superuser)
        # There is no service for the first superuser (createsuperuser has none either); record
        # its creation so the trail starts with it.
        admin = User.objects.create_superuser(
            username=admin_spec.username, email="", password=self.password, full_name=admin_spec.full_name
        )
        audit.record(
            "accounts.user.created",
            target=admin,
            actor=None,
            new={"username": admin.username, "full_name": admin.full_name, "is_superuser": True},
        )
        self.users[admin.username] = admin
        for spec in self.plan.organisations:
            self.orgs[spec.key] = accounts.organisation_create(
                actor=admin,
                name=spec.name,
                short_name=spec.short_name,
                kind=spec.kind,
                region=self.refs.regions[spec.region],
                uscc=spec.uscc,
                managed_categories=[self.refs.categories[c] for c in spec.categories],
                managed_programmes=[self.refs.programmes[p] for p in spec.programmes],
            )
        for account in self.plan.accounts:
            if account.organisation:
                membership = accounts.member_add(
                    actor=admin,
                    organisation=self.orgs[account.organisation],
                    username=account.username,
                    password=self.password,
                    role=account.role,
                    full_name=account.full_name,
                    check_password=False,
                )
                self.users[account.username] = User.objects.get(pk=membership.user_id)
        office = self.users["office"]
        for enterprise in self.plan.enterprises:
            if enterprise.account:
                self.named_enterprise(enterprise)
        # After the enterprises: two experts work for one of them (conflict-of-interest cases).
        for expert in self.plan.experts:
            profile = accounts.expert_create(
                actor=office,
                username=expert.username,
                password=self.password,
                full_name=expert.full_name,
                employer=expert.employer,
                employer_uscc=expert.employer_uscc,
                region=self.refs.regions[expert.region],
                specialities=[self.refs.categories[c] for c in expert.specialities],
                title=expert.title,
                phone=expert.phone,
                check_password=False,
            )
            self.users[expert.username] = profile.user
        self.report.users = len(self.users)
        self.report.experts = len(self.plan.experts)

    def named_enterprise(self, spec: EnterpriseSpec) -> None:
        """Registration, approval, details, brands, tiers, sources and products, as people would."""
        from haopin.accounts import services as accounts
        from haopin.accounts.models import User
        from haopin.registry import services as registry
        from haopin.registry.models import Enterprise

        county = self.refs.regions[spec.region]
        membership = accounts.enterprise_register(
            uscc=spec.uscc,
            name=spec.name,
            region=county,
            legal_representative=spec.legal_representative,
            contact_name=spec.contact_name,
            contact_phone=spec.contact_phone,
            contact_email=spec.contact_email,
            username=spec.account,
            password=self.password,
        )
        accounts.organisation_review(
            actor=self.users[spec.approver],
            organisation=membership.organisation,
            approve=True,
            note="营业执照信息与统一社会信用代码核验一致，同意注册。",
        )
        # A fresh user object: its scope was computed while the registration was pending.
        manager = User.objects.get(pk=membership.user_id)
        self.users[spec.account] = manager
        enterprise = Enterprise.objects.get(uscc=spec.uscc)
        enterprise = registry.enterprise_update(
            actor=manager,
            enterprise=enterprise,
            address=spec.address,
            founded_on=spec.founded_on,
            industry_code=spec.industry_code,
            size=spec.size,
        )
        office = self.users["office"]
        for brand_spec in (b for b in self.plan.brands if b.owner == spec.uscc):
            brand = registry.brand_create(
                actor=manager,
                owner=enterprise,
                name=brand_spec.name,
                name_en=brand_spec.name_en,
                brand_type=self.refs.brand_types[brand_spec.brand_type],
                category=self.refs.categories[brand_spec.category],
                region=self.refs.regions[brand_spec.region],
                tier=self.refs.tiers["pool"],
                trademark_numbers=list(brand_spec.trademarks),
                description=brand_spec.description.replace(TIER_ZH[brand_spec.tier], TIER_ZH["pool"]),
                description_en=brand_spec.description_en.replace(TIER_EN[brand_spec.tier], TIER_EN["pool"]),
            )
            if brand_spec.tier != "pool":
                # Admission to a higher tier follows the office's evaluation.
                brand = registry.brand_update(
                    actor=office,
                    brand=brand,
                    tier=self.refs.tiers[brand_spec.tier],
                    description=brand_spec.description,
                    description_en=brand_spec.description_en,
                )
            for source in brand_spec.sources:
                registry.brand_source_set(
                    actor=office,
                    brand=brand,
                    programme=self.refs.programmes[source.programme],
                    certificate_number=source.certificate_number,
                    year=source.year,
                )
            for product in (
                p for p in self.plan.products if p.owner == spec.uscc and p.brand == brand_spec.name
            ):
                registry.product_create(
                    actor=manager,
                    brand=brand,
                    kind=product.kind,
                    name=product.name,
                    specification=product.specification,
                    standard_codes=list(product.standard_codes),
                    gtin=product.gtin or "",
                    description=product.description,
                )

    # the bulk, with bulk_create and the audit events a service would write ------------------
    def bulk(self, say: Any) -> None:
        from haopin.registry.models import Brand, BrandSource, Enterprise, Product

        refs = self.refs
        enterprises = [e for e in self.plan.enterprises if not e.account]
        owner_ids: dict[str, int] = dict(
            Enterprise.objects.filter(uscc__in=self.named_owners).values_list("uscc", "pk")
        )
        for batch in _chunks(enterprises, BATCH):
            enterprise_rows = [
                Enterprise(
                    uscc=e.uscc,
                    name=e.name,
                    region=refs.regions[e.region],
                    legal_representative=e.legal_representative,
                    address=e.address,
                    founded_on=e.founded_on,
                    industry_code=e.industry_code,
                    size=e.size,
                    contact_name=e.contact_name,
                    contact_phone=e.contact_phone,
                    contact_email=e.contact_email,
                )
                for e in batch
            ]
            Enterprise.objects.bulk_create(enterprise_rows, batch_size=500)
            self.audit_created("registry.enterprise.created", enterprise_rows, ENTERPRISE_AUDIT_FIELDS)
            owner_ids.update((row.uscc, row.pk) for row in enterprise_rows)
        say(f"企业 / enterprises: {len(enterprises):,}")

        brands = [b for b in self.plan.brands if b.owner not in self.named_owners]
        brand_ids: dict[tuple[str, str], int] = {}
        done = 0
        for batch in _chunks(brands, BATCH):
            brand_rows = [
                Brand(
                    name=b.name,
                    name_en=b.name_en,
                    owner_id=owner_ids[b.owner],
                    brand_type=refs.brand_types[b.brand_type],
                    category=refs.categories[b.category],
                    region=refs.regions[b.region],
                    tier=refs.tiers[b.tier],
                    status=b.status,
                    trademark_numbers=list(b.trademarks),
                    description=b.description,
                    description_en=b.description_en,
                )
                for b in batch
            ]
            Brand.objects.bulk_create(brand_rows, batch_size=500)
            self.audit_created("registry.brand.created", brand_rows, BRAND_AUDIT_FIELDS)
            sources = []
            for brand_spec, brand in zip(batch, brand_rows, strict=True):
                brand_ids[(brand_spec.owner, brand_spec.name)] = brand.pk
                for s in brand_spec.sources:
                    sources.append(
                        BrandSource(
                            brand=brand,
                            programme=refs.programmes[s.programme],
                            certificate_number=s.certificate_number,
                            year=s.year,
                        )
                    )
            BrandSource.objects.bulk_create(sources, batch_size=500)
            self.audit_sources(sources)
            done += len(batch)
            if len(brands) > 10 * BATCH and done % (10 * BATCH) == 0:
                say(f"品牌 / brands: {done:,} / {len(brands):,}")
        say(f"品牌 / brands: {len(brands):,}")

        products = [p for p in self.plan.products if p.owner not in self.named_owners]
        for batch in _chunks(products, BATCH):
            product_rows = [
                Product(
                    brand_id=brand_ids[(p.owner, p.brand)],
                    kind=p.kind,
                    name=p.name,
                    specification=p.specification,
                    standard_codes=list(p.standard_codes),
                    gtin=p.gtin,
                    description=p.description,
                )
                for p in batch
            ]
            Product.objects.bulk_create(product_rows, batch_size=500)
            self.audit_created("registry.product.created", product_rows, PRODUCT_AUDIT_FIELDS)
        say(f"产品 / products: {len(products):,}")

        from haopin.accounts.models import Organisation

        self.report.organisations = Organisation.objects.count()
        self.report.enterprises = len(self.plan.enterprises)
        self.report.brands = len(self.plan.brands)
        self.report.products = len(self.plan.products)

    def audit_created(self, action: str, rows: list[Any], fields: list[str]) -> None:
        from haopin.core import audit

        entries = [audit.entry_for(action, row, new=_values(row, fields)) for row in rows]
        audit.record_many(entries)

    def audit_sources(self, sources: list[Any]) -> None:
        from haopin.core import audit

        entries = [
            audit.entry_for(
                "registry.brand.source_set",
                s.brand,
                new={
                    "programme": self.programme_codes[s.programme_id],
                    "certificate_number": s.certificate_number,
                    "year": s.year,
                },
            )
            for s in sources
        ]
        audit.record_many(entries)


BATCH = 5000
SEED_HASHER = "django.contrib.auth.hashers.MD5PasswordHasher"
# The fields a service's "created" event holds (registry.services snapshots), foreign keys as ids.
ENTERPRISE_AUDIT_FIELDS = [
    "uscc", "name", "region_id", "legal_representative", "address", "founded_on", "industry_code", "size",
    "contact_name", "contact_phone", "contact_email",
]  # fmt: skip
BRAND_AUDIT_FIELDS = [
    "owner_id", "name", "name_en", "brand_type_id", "category_id", "region_id", "tier_id",
    "trademark_numbers", "status",
]  # fmt: skip
PRODUCT_AUDIT_FIELDS = ["brand_id", "kind", "name", "specification", "standard_codes", "gtin"]


def _values(row: Any, fields: list[str]) -> dict[str, Any]:
    values = {}
    for name in fields:
        value = getattr(row, name)
        values[name.removesuffix("_id")] = value.isoformat() if isinstance(value, dt.date) else value
    return values


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# --- reading back ------------------------------------------------------------------------------


def database_rows() -> Iterator[tuple[Any, ...]]:
    """What the database holds, in the shape of ``Plan.rows`` (for ``database_digest``)."""
    from haopin.accounts.models import ExpertProfile, Membership, Organisation, User
    from haopin.registry.models import Brand, BrandSource, Enterprise, Product

    managed_categories: dict[int, list[str]] = {}
    for org_id, code in Organisation.managed_categories.through.objects.values_list(
        "organisation_id", "category__code"
    ):
        managed_categories.setdefault(org_id, []).append(code)
    managed_programmes: dict[int, list[str]] = {}
    for org_id, code in Organisation.managed_programmes.through.objects.values_list(
        "organisation_id", "sourceprogramme__code"
    ):
        managed_programmes.setdefault(org_id, []).append(code)
    for pk, kind, name, region, uscc in Organisation.objects.values_list(
        "pk", "kind", "name", "region__code", "uscc"
    ):
        yield (
            "org",
            kind,
            name,
            region or "",
            uscc or "",
            tuple(sorted(managed_categories.get(pk, []))),
            tuple(sorted(managed_programmes.get(pk, []))),
        )
    memberships = {
        user_id: (org, role)
        for user_id, org, role in Membership.objects.values_list("user_id", "organisation__name", "role")
    }
    for pk, username, full_name, superuser in User.objects.values_list(
        "pk", "username", "full_name", "is_superuser"
    ):
        org, role = memberships.get(pk, ("", ""))
        yield ("user", username, full_name, org, role, superuser)
    for row in Enterprise.objects.values_list(
        "uscc",
        "name",
        "region__code",
        "legal_representative",
        "address",
        "founded_on",
        "industry_code",
        "size",
        "contact_name",
        "contact_phone",
        "contact_email",
        "organisation__name",
    ).iterator(chunk_size=5000):
        values: list[Any] = list(row)
        values[5] = values[5].isoformat() if values[5] else ""
        values[11] = values[11] or ""
        yield ("enterprise", *values)
    sources: dict[int, list[tuple[str, str, int | None]]] = {}
    for brand_id, code, number, year in BrandSource.objects.values_list(
        "brand_id", "programme__code", "certificate_number", "year"
    ).iterator(chunk_size=5000):
        sources.setdefault(brand_id, []).append((code, number, year))
    for (
        pk,
        owner,
        name,
        name_en,
        brand_type,
        category,
        region,
        tier,
        status,
        trademarks,
    ) in Brand.objects.values_list(
        "pk",
        "owner__uscc",
        "name",
        "name_en",
        "brand_type__code",
        "category__code",
        "region__code",
        "tier__code",
        "status",
        "trademark_numbers",
    ).iterator(chunk_size=5000):
        yield (
            "brand",
            owner,
            name,
            name_en,
            brand_type,
            category,
            region,
            tier,
            status,
            tuple(trademarks),
            tuple(sorted(sources.get(pk, []))),
        )
    for owner, brand, kind, name, spec, standards, gtin in Product.objects.values_list(
        "brand__owner__uscc", "brand__name", "kind", "name", "specification", "standard_codes", "gtin"
    ).iterator(chunk_size=5000):
        yield ("product", owner, brand, kind, name, spec, tuple(standards), gtin or "")
    specialities: dict[int, list[str]] = {}
    for profile_id, code in ExpertProfile.specialities.through.objects.values_list(
        "expertprofile_id", "category__code"
    ):
        specialities.setdefault(profile_id, []).append(code)
    for pk, username, employer, uscc, region, title in ExpertProfile.objects.values_list(
        "pk", "user__username", "employer", "employer_uscc", "region__code", "title"
    ):
        yield ("expert", username, employer, uscc, region, title, tuple(sorted(specialities.get(pk, []))))


def database_digest() -> str:
    return digest_rows(database_rows())
