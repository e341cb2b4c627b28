"""Queries against the index, on the engine the suite runs on (SQLite's FTS5 or PostgreSQL's
tsvector): exact Chinese substrings, pinyin and initials, Latin words, codes, AND of terms."""

from __future__ import annotations

import itertools
import random

import pytest

from haopin.registry import services
from haopin.registry.models import Brand, Enterprise
from haopin.registry.validation import make_uscc
from haopin.search import index
from haopin.search.query import matching_ids

ALPHABET = "青岛啤酒山东"


def found(kind: str, text: str) -> set[int]:
    model = Brand if kind == "registry.brand" else Enterprise
    return set(model.objects.filter(pk__in=matching_ids(kind, text)).values_list("pk", flat=True))


@pytest.fixture
def corpus(province):
    """300 enterprises whose names and legal representatives are random strings over six
    characters, so that every query of one to three of them has hits and near misses."""
    rng = random.Random(2024)

    def text() -> str:
        return "".join(rng.choice(ALPHABET) for _ in range(rng.randrange(1, 7)))

    Enterprise.objects.bulk_create(
        Enterprise(
            uscc=make_uscc("370102", 5000 + n),
            name=text(),
            legal_representative=text(),
            region=province.lixia,
        )
        for n in range(300)
    )
    index.rebuild(["registry.enterprise"])
    return list(Enterprise.objects.values_list("pk", "name", "legal_representative"))


def test_chinese_queries_are_exact_substring_matches_within_one_field(corpus):
    queries = ["".join(p) for n in (1, 2, 3) for p in itertools.product(ALPHABET, repeat=n)]
    for query in queries:
        expected = {pk for pk, name, person in corpus if query in name or query in person}
        assert found("registry.enterprise", query) == expected, query


def test_the_order_of_characters_matters(province):
    qingdao = services.enterprise_create(
        actor=province.office, uscc=make_uscc("370102", 901), name="青岛酿造有限公司", region=province.lixia
    )
    daoqing = services.enterprise_create(
        actor=province.office, uscc=make_uscc("370102", 902), name="岛青酿造有限公司", region=province.lixia
    )
    assert found("registry.enterprise", "青岛") == {qingdao.pk}
    assert found("registry.enterprise", "岛青") == {daoqing.pk}
    assert found("registry.enterprise", "青岛酿造") == {qingdao.pk}
    assert found("registry.enterprise", "岛酿") == {qingdao.pk}
    assert found("registry.enterprise", "酿造") == {qingdao.pk, daoqing.pk}


def test_a_term_spanning_two_fields_does_not_match(province):
    enterprise = services.enterprise_create(
        actor=province.office,
        uscc=make_uscc("370102", 903),
        name="示范山东青",
        legal_representative="岛明",
        region=province.lixia,
    )
    assert found("registry.enterprise", "山东青") == {enterprise.pk}
    assert found("registry.enterprise", "岛明") == {enterprise.pk}
    assert found("registry.enterprise", "青岛") == set()
    assert found("registry.enterprise", "东青岛") == set()


@pytest.fixture
def beer(province):
    return services.brand_create(
        actor=province.alice,
        owner=province.alice_ent,
        name="青岛啤酒",
        name_en="Tsingtao Brewery",
        brand_type=province.product_type,
        category=province.cat_food,
        tier=province.pool,
    )


@pytest.mark.parametrize(
    "text", ["qingdao", "qd", "QD", "pijiu", "pj", "qdpj", "qingdaopijiu", "qingd", "daopi"]
)
def test_pinyin_in_full_and_initials_find_the_chinese(beer, text):
    assert beer.pk in found("registry.brand", text)


@pytest.mark.parametrize("text", ["qdao", "ingdao", "qx", "jiup"])
def test_pinyin_must_start_at_a_character_and_not_mix_full_and_initials(beer, text):
    assert beer.pk not in found("registry.brand", text)


def test_latin_words_match_by_prefix(beer):
    assert beer.pk in found("registry.brand", "tsing")
    assert beer.pk in found("registry.brand", "BREW")
    assert beer.pk not in found("registry.brand", "rewery")


def test_the_owners_name_is_part_of_a_brand(beer, province):
    index.index_objects("registry.brand", [province.alice_brand, province.bob_brand])
    # Both of alice's brands are owned by 泉城食品有限公司; bob's by 崂山茶业有限公司.
    assert found("registry.brand", "泉城食品") == {beer.pk, province.alice_brand.pk}
    assert found("registry.brand", "qcsp") == {beer.pk, province.alice_brand.pk}
    assert found("registry.brand", "茶业") == {province.bob_brand.pk}


def test_terms_and_together(beer, province):
    assert found("registry.brand", "青岛 泉城") == {beer.pk}
    assert found("registry.brand", "啤酒 tsing") == {beer.pk}
    assert found("registry.brand", "青岛 崂山") == set()
    assert found("registry.brand", "qd 崂山") == set()


def test_credit_codes_by_their_beginning_and_their_end(province):
    uscc = province.bob_ent.uscc
    index.index_objects("registry.enterprise", [province.bob_ent])
    assert found("registry.enterprise", uscc) == {province.bob_ent.pk}
    assert found("registry.enterprise", uscc[:8]) == {province.bob_ent.pk}
    assert found("registry.enterprise", uscc[-6:]) == {province.bob_ent.pk}
    assert found("registry.enterprise", uscc[-6:].lower()) == {province.bob_ent.pk}
    assert found("registry.enterprise", uscc[5:12]) == set()  # neither end


def test_nothing_searchable_finds_nothing(beer):
    assert found("registry.brand", "——") == set()
    assert found("registry.brand", "%") == set()


def test_an_unknown_kind_is_a_programming_error():
    with pytest.raises(ValueError, match="not a search kind"):
        matching_ids("registry.document", "青岛")


@pytest.mark.parametrize("limit", [10_000, 0])
def test_list_filters_find_the_same_with_literal_ids_or_the_subquery(province, monkeypatch, limit):
    # On PostgreSQL a few matches are passed as literal ids, many as the subquery (on SQLite
    # always the subquery): both must select the same rows.
    from haopin.search import query

    index.rebuild()
    monkeypatch.setattr(query, "LITERAL_IDS", limit)
    for text in ("崂山", "qd", "酥锅", "nothing-like-this"):
        expected = found("registry.brand", text)
        filtered = set(
            Brand.objects.filter(pk__in=query.ids_for_filter("registry.brand", text)).values_list(
                "pk", flat=True
            )
        )
        assert filtered == expected, text
    assert not Brand.objects.filter(pk__in=query.ids_for_filter("registry.brand", "！？")).exists()
