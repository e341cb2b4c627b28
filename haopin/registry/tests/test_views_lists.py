"""Workspace lists of enterprises, brands and products: scope, filters, search, sorting, export,
and query counts that do not grow with the page size."""

from __future__ import annotations

import io
from urllib.parse import unquote

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from haopin.core.models import BrandType, Region
from haopin.registry import services
from haopin.registry.models import Brand, BrandSource, Enterprise, Product
from haopin.registry.validation import make_gtin, make_uscc

ENTERPRISES = reverse("registry:enterprise-list")
BRANDS = reverse("registry:brand-list")
PRODUCTS = reverse("registry:product-list")


def by_name(query: str) -> str:
    """The query with sorting by name unless it sorts otherwise (the lists open newest first)."""
    return query if "sort=" in query else f"{query}{'&' if '?' in query else '?'}sort=name"


def first_column(response) -> list[str]:
    """The text of the first cell of each row of the list's table."""
    assert response.status_code == 200, response.content[:500]
    rows = response.context["rows"]
    return [row.cells[0].text for row in rows]


def workbook_rows(response) -> list[tuple]:
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    content = b"".join(response.streaming_content)
    sheet = load_workbook(io.BytesIO(content), read_only=True).active
    return [tuple(cell for cell in row) for row in sheet.iter_rows(values_only=True)]


@pytest.fixture
def many(province):
    """Thirty more enterprises in Qingdao, each with a brand and a product."""
    product_type = BrandType.objects.get(code="product")
    for serial in range(100, 130):
        enterprise = Enterprise.objects.create(
            uscc=make_uscc("370212", serial), name=f"青岛企业{serial}", region=province.laoshan, size="small"
        )
        brand = Brand.objects.create(
            name=f"海牌{serial}",
            owner=enterprise,
            brand_type=product_type,
            category=province.cat_food,
            region=province.laoshan,
            tier=province.pool,
        )
        BrandSource.objects.create(brand=brand, programme=province.prog_chtb, year=2020)
        Product.objects.create(
            brand=brand,
            name=f"海货{serial}",
            gtin=make_gtin("6909999", serial),
            standard_codes=["GB 2760-2014"],
        )
    return province


# --- enterprises ------------------------------------------------------------------------------


def test_office_sees_every_enterprise_with_its_region_and_brand_count(province, as_user):
    response = as_user(province.office).get(by_name(ENTERPRISES))
    assert first_column(response) == ["历城新材料有限公司", "崂山茶业有限公司", "泉城食品有限公司"]
    alice = next(r for r in response.context["rows"] if r.obj == province.alice_ent)
    texts = [c.text for c in alice.cells]
    assert texts[1:6] == [province.alice_ent.uscc, "济南市历下区", "C14", "中型", "1"]
    assert "登记企业" in response.content.decode()


def test_city_qingdao_sees_only_qingdao_enterprises(province, as_user):
    response = as_user(province.city_qingdao).get(ENTERPRISES)
    assert first_column(response) == ["崂山茶业有限公司"]


def test_enterprise_sees_itself_and_no_register_button(province, as_user):
    response = as_user(province.alice).get(ENTERPRISES)
    assert first_column(response) == ["泉城食品有限公司"]
    assert reverse("registry:enterprise-create") not in response.content.decode()


def test_brand_count_counts_only_brands_the_user_can_see(province, as_user):
    Brand.objects.create(
        name="泉城茶",
        owner=province.alice_ent,
        brand_type=province.product_type,
        category=province.cat_tea,
        region=province.lixia,
        tier=province.pool,
    )
    office = as_user(province.office).get(ENTERPRISES + "?q=泉城")
    assert office.context["rows"][0].cells[5].text == "2"
    agri = as_user(province.dept_agri).get(ENTERPRISES + "?q=泉城")
    assert agri.context["rows"][0].cells[5].text == "1"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?city=370100", ["历城新材料有限公司", "泉城食品有限公司"]),
        ("?city=370200", ["崂山茶业有限公司"]),
        ("?size=medium", ["泉城食品有限公司"]),
        ("?info=incomplete", ["历城新材料有限公司"]),
        ("?q=崂山", ["崂山茶业有限公司"]),
        ("?sort=-name", ["泉城食品有限公司", "崂山茶业有限公司", "历城新材料有限公司"]),
        ("?sort=region__code", ["泉城食品有限公司", "历城新材料有限公司", "崂山茶业有限公司"]),
        ("?city=999999", ["历城新材料有限公司", "崂山茶业有限公司", "泉城食品有限公司"]),  # unknown: ignored
        ("?sort=password", ["历城新材料有限公司", "崂山茶业有限公司", "泉城食品有限公司"]),  # not sortable
    ],
)
def test_enterprise_filters_search_and_sorting(province, as_user, query, expected):
    assert first_column(as_user(province.office).get(by_name(ENTERPRISES + query))) == expected


def test_lists_open_with_the_latest_changes_first(province, as_user):
    services.enterprise_update(
        actor=province.office, enterprise=province.bob_ent, address="崂山区海尔路 1 号"
    )
    services.brand_update(actor=province.office, brand=province.alice_brand, description="百年老店。")
    client = as_user(province.office)
    assert first_column(client.get(ENTERPRISES))[0] == "崂山茶业有限公司"
    assert first_column(client.get(BRANDS))[0] == "泉城"
    services.brand_update(actor=province.office, brand=province.bob_brand, description="崂山绿茶。")
    assert first_column(client.get(BRANDS)) == ["崂山绿茶", "泉城"]


def test_search_by_credit_code(province, as_user):
    response = as_user(province.office).get(ENTERPRISES + "?q=" + province.bob_ent.uscc[-6:])
    assert first_column(response) == ["崂山茶业有限公司"]


def test_city_filter_offers_only_the_bureaus_own_city(province, as_user):
    response = as_user(province.city_jinan).get(ENTERPRISES)
    city = next(w for w in response.context["filter_widgets"] if w["name"] == "city")
    assert city["choices"] == [("370100", "济南市")]


def test_enterprise_export_is_a_real_workbook_with_the_filtered_rows(province, as_user):
    response = as_user(province.office).get(ENTERPRISES + "?city=370100&export=xlsx")
    assert "filename*=UTF-8''" in response["Content-Disposition"]
    assert unquote(response["Content-Disposition"].split("''")[1]).startswith("企业名录-")
    rows = workbook_rows(response)
    assert rows[0] == (
        "企业名称",
        "统一社会信用代码",
        "所在区划",
        "行业代码（GB/T 4754）",
        "企业规模",
        "品牌数",
        "更新时间",
    )
    assert [r[0] for r in rows[1:]] == ["历城新材料有限公司", "泉城食品有限公司"]
    alice = rows[2]
    assert alice[1] == province.alice_ent.uscc and alice[2] == "济南市历下区" and alice[5] == 1


def test_htmx_request_gets_only_the_table(province, as_user):
    response = as_user(province.office).get(ENTERPRISES + "?city=370200", HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="table">')
    assert "<html" not in body and "崂山茶业有限公司" in body


def _queries(client, url: str) -> int:
    client.get(url)  # warm the session and any per-process caches
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("persona", ["office", "city_qingdao", "dept_commerce"])
@pytest.mark.parametrize("url", [ENTERPRISES, BRANDS, PRODUCTS])
def test_query_count_does_not_grow_with_page_size(many, as_user, persona, url):
    client = as_user(getattr(many, persona))
    small = _queries(client, url + "?size=20")
    large = _queries(client, url + "?size=100")
    assert small == large
    assert large <= 24


def test_pinned_query_count_of_the_brand_list(many, as_user, django_assert_num_queries):
    client = as_user(many.office)
    client.get(BRANDS)
    # session, user, membership; filter choices (types, tiers, categories, cities, programmes);
    # count, page; owners, types, categories, regions, cities, tiers; navigation.
    with django_assert_num_queries(_queries(client, BRANDS + "?size=20&tier=pool")):
        response = client.get(BRANDS + "?size=100&tier=pool")
    assert len(response.context["rows"]) == 31


# --- brands -----------------------------------------------------------------------------------


def test_brand_row_shows_owner_type_category_region_tier_and_status(province, as_user):
    response = as_user(province.office).get(BRANDS + "?q=崂山")
    texts = [c.text for c in response.context["rows"][0].cells]
    assert texts[:7] == [
        "崂山绿茶",
        "崂山茶业有限公司",
        "地理标志品牌",
        "茶叶",
        "青岛市崂山区",
        "好品山东品牌",
        "正常",
    ]
    assert response.context["rows"][0].cells[0].url == province.bob_brand.get_absolute_url()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?type=gi", ["崂山绿茶"]),
        ("?type=product", ["泉城"]),
        ("?tier=member", ["崂山绿茶"]),
        ("?category=105", ["崂山绿茶"]),
        ("?category=201", ["泉城"]),
        ("?city=370100", ["泉城"]),
        ("?source=agi", ["崂山绿茶"]),
        ("?source=chtb", []),
        ("?status=active", ["崂山绿茶", "泉城"]),
        ("?status=suspended", []),
        ("?q=崂山茶业", ["崂山绿茶"]),
        ("?sort=-tier__rank", ["崂山绿茶", "泉城"]),
        ("?sort=tier__rank", ["泉城", "崂山绿茶"]),
        ("?sort=owner__name", ["崂山绿茶", "泉城"]),
        ("?sort=-owner__name", ["泉城", "崂山绿茶"]),
    ],
)
def test_brand_filters_search_and_sorting(province, as_user, query, expected):
    assert first_column(as_user(province.office).get(by_name(BRANDS + query))) == expected


def test_brands_without_products_filter(province, as_user):
    Product.objects.filter(brand=province.alice_brand).delete()
    assert first_column(as_user(province.alice).get(BRANDS + "?products=none")) == ["泉城"]
    assert first_column(as_user(province.bob).get(BRANDS + "?products=none")) == []


def test_filters_combine(many, as_user):
    response = as_user(many.office).get(BRANDS + "?city=370200&source=chtb&tier=pool&size=50")
    assert len(response.context["rows"]) == 30
    assert response.context["page"].paginator.count == 30


def test_pages_follow_one_another(many, as_user):
    client = as_user(many.office)
    first = first_column(client.get(BRANDS + "?size=20"))
    second = first_column(client.get(BRANDS + "?size=20&page=2"))
    assert len(first) == 20 and len(second) == 12
    assert not set(first) & set(second)


def test_alice_does_not_see_bobs_brand_even_when_filtering_for_it(province, as_user):
    assert first_column(as_user(province.alice).get(BRANDS + "?type=gi")) == []
    assert first_column(as_user(province.alice).get(BRANDS + "?q=崂山")) == []


def test_dept_agri_sees_tea_not_food(province, as_user):
    assert first_column(as_user(province.dept_agri).get(BRANDS)) == ["崂山绿茶"]


def test_brand_export_respects_filters_and_scope(many, as_user):
    rows = workbook_rows(as_user(many.city_qingdao).get(BRANDS + "?export=xlsx&source=chtb&sort=name"))
    assert rows[0][:3] == ("品牌名称", "品牌主体", "品牌类型")
    assert len(rows) == 31
    assert all(r[4] == "青岛市崂山区" for r in rows[1:])
    assert "泉城" not in {r[0] for r in rows}


def test_register_button_only_for_writers(province, as_user):
    assert "登记品牌" in as_user(province.alice).get(BRANDS).content.decode()
    assert "登记品牌" not in as_user(province.alice_viewer).get(BRANDS).content.decode()


# --- products ---------------------------------------------------------------------------------


def test_product_list_shows_brand_owner_gtin_and_standards(province, as_user):
    response = as_user(province.office).get(PRODUCTS + "?q=酥锅")
    texts = [c.text for c in response.context["rows"][0].cells]
    assert texts == [
        "泉城酥锅",
        "500g",
        "产品",
        "泉城",
        "泉城食品有限公司",
        province.alice_product.gtin,
        "GB 2726-2016",
    ]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?kind=goods", ["崂山绿茶", "泉城酥锅"]),
        ("?kind=service", []),
        ("?city=370200", ["崂山绿茶"]),
        ("?sort=-gtin", ["崂山绿茶", "泉城酥锅"]),
        ("?sort=brand__name", ["崂山绿茶", "泉城酥锅"]),
        ("?sort=-brand__name", ["泉城酥锅", "崂山绿茶"]),
    ],
)
def test_product_filters_and_sorting(province, as_user, query, expected):
    assert first_column(as_user(province.office).get(PRODUCTS + query)) == expected


def test_search_products_by_gtin(province, as_user):
    response = as_user(province.office).get(PRODUCTS + "?q=" + province.bob_product.gtin)
    assert first_column(response) == ["崂山绿茶"]


def test_product_export(province, as_user):
    rows = workbook_rows(as_user(province.alice).get(PRODUCTS + "?export=xlsx"))
    assert rows == [
        ("名称", "规格型号", "类型", "品牌", "品牌主体", "商品条码", "执行标准"),
        ("泉城酥锅", "500g", "产品", "泉城", "泉城食品有限公司", province.alice_product.gtin, "GB 2726-2016"),
    ]


def test_lists_need_a_login(client, province):
    for url in (ENTERPRISES, BRANDS, PRODUCTS):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_lists_answer_only_get(province, as_user):
    assert as_user(province.office).post(BRANDS).status_code == 405


def test_region_rows_are_not_duplicated_by_prefetching(province, as_user):
    # Two enterprises in one county share the prefetched region object.
    Enterprise.objects.create(
        uscc=make_uscc("370102", 99), name="历下第二家", region=Region.objects.get(code="370102")
    )
    response = as_user(province.office).get(ENTERPRISES + "?city=370100")
    rows = {r.cells[0].text: r.cells[2].text for r in response.context["rows"]}
    assert rows == {
        "历下第二家": "济南市历下区",
        "历城新材料有限公司": "济南市历城区",
        "泉城食品有限公司": "济南市历下区",
    }
