"""The analyser: what a record's text becomes in the index, and what a query must match."""

from __future__ import annotations

import random
import re

import pytest
from pypinyin import lazy_pinyin

from haopin.core import demo
from haopin.search.analyser import BREAK, MAX_PINYIN, MAX_TERMS, Term, analyse, parse, syllables


def words(*texts: str) -> list[str]:
    return analyse(texts).words


def test_chinese_is_bigrams_in_order_and_single_characters():
    tokens = analyse(["青岛啤酒"])
    assert tokens.bigrams == ["青岛", "岛啤", "啤酒"]
    assert tokens.chars == ["青", "岛", "啤", "酒"]


def test_no_bigram_spans_two_fields_or_punctuation_or_a_latin_word():
    assert analyse(["青岛", "啤酒"]).bigrams == ["青岛", BREAK, "啤酒"]
    assert analyse(["青岛·啤酒"]).bigrams == ["青岛", BREAK, "啤酒"]
    assert analyse(["青岛 ABC 啤酒"]).bigrams == ["青岛", BREAK, "啤酒"]
    # One character alone makes no bigram but still separates its neighbours.
    assert analyse(["青岛", "啤", "酒厂"]).bigrams == ["青岛", BREAK, BREAK, "酒厂"]


def test_repeated_characters_are_stored_once_but_bigrams_keep_their_order():
    tokens = analyse(["山东山东"])
    assert tokens.bigrams == ["山东", "东山", "山东"]
    assert tokens.columns()["chars"] == "山 东"


def test_latin_words_are_lower_case_without_accents_and_split_at_digits():
    assert words("Tsingtao Brewery Co., Ltd.") == ["tsingtao", "brewery", "co", "ltd"]
    assert words("Müller") == ["muller"]
    assert words("HRB400E") == ["hrb400e", "400e", "e"]
    assert words("IS80-65-160") == ["is80", "80", "65", "160"]


def test_full_width_letters_and_digits_are_the_ascii_ones():
    assert words("ＱＤ２０２４") == ["qd2024", "2024"]


def test_pinyin_in_full_and_as_initials_from_each_character():
    assert words("青岛啤酒") == [
        "qingdaopijiu",
        "qdpj",
        "daopijiu",
        "dpj",
        "pijiu",
        "pj",
        "jiu",
        "j",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("重庆", "chongqing"),
        ("银行", "yinhang"),
        ("长城", "changcheng"),
        ("绿茶", "lvcha"),
        ("厦门", "xiamen"),
    ],
)
def test_polyphonic_characters_are_read_in_context(text, expected):
    assert words(text)[0] == expected


def test_mixed_text():
    tokens = analyse(["青岛ABC啤酒500mL"])
    assert tokens.bigrams == ["青岛", BREAK, "啤酒"]
    assert tokens.chars == ["青", "岛", "啤", "酒"]
    assert tokens.words == ["qingdao", "qd", "dao", "d", "abc", "pijiu", "pj", "jiu", "j", "500ml", "ml"]


@pytest.mark.parametrize("text", ["", "   ", "——！，。", "%_*", "·"])
def test_empty_and_punctuation_only_input_gives_no_tokens(text):
    assert analyse([text], [text]).columns() == {"bigrams": "", "chars": "", "words": "", "codes": ""}
    assert parse(text) == []


def test_codes_are_words_and_reversed_codes():
    tokens = analyse([], ["91370102MA3C4XYZ1K"])
    assert tokens.words == ["91370102ma3c4xyz1k"]
    assert tokens.codes == ["k1zyx4c3am20107319"]


def test_a_very_long_run_is_capped_in_pinyin_not_in_bigrams():
    text = "青" * 100
    tokens = analyse([text])
    assert len(tokens.bigrams) == 99
    assert max(len(w) for w in tokens.words) == MAX_PINYIN


def test_a_character_without_a_reading_breaks_the_pinyin_only():
    tokens = analyse(["青\U0002b81d岛"])  # a CJK Extension D character pypinyin does not know
    assert tokens.bigrams == ["青\U0002b81d", "\U0002b81d岛"]
    assert "qing" in tokens.words and "dao" in tokens.words and not any(len(w) > 4 for w in tokens.words)


# --- queries -----------------------------------------------------------------------------------


def test_a_query_of_two_or_more_characters_is_the_phrase_of_its_bigrams():
    assert parse("青岛啤酒") == [Term("phrase", ("青岛", "岛啤", "啤酒"))]
    assert parse("青岛") == [Term("phrase", ("青岛",))]


def test_one_character_looks_in_the_single_characters():
    assert parse("茶") == [Term("char", ("茶",))]


def test_spaces_punctuation_and_scripts_separate_terms():
    assert parse("青岛 啤酒") == [Term("phrase", ("青岛",)), Term("phrase", ("啤酒",))]
    assert parse("青岛，qd") == [Term("phrase", ("青岛",)), Term("prefix", ("qd",))]
    assert parse("绿茶250g") == [Term("phrase", ("绿茶",)), Term("prefix", ("250g",), "g052")]


def test_words_of_four_or_more_characters_with_a_digit_also_match_code_tails():
    assert parse("QD") == [Term("prefix", ("qd",))]
    assert parse("37") == [Term("prefix", ("37",))]
    assert parse("0102") == [Term("prefix", ("0102",), "2010")]
    assert parse("lurun") == [Term("prefix", ("lurun",))]


def test_repeated_terms_count_once_and_there_is_a_limit():
    assert parse("青岛 青岛 qd QD") == [Term("phrase", ("青岛",)), Term("prefix", ("qd",))]
    assert len(parse(" ".join(f"w{i}" for i in range(30)))) == MAX_TERMS


def test_syllables_agree_with_pypinyin():
    """The analyser reads pypinyin's dictionaries directly; it must read them as lazy_pinyin does.

    The corpus: every Chinese name in the demo province's tables and random characters."""
    corpus = {name for name, *_ in demo.COLLECTIVE_BRANDS}
    corpus |= {word for profile in demo.PROFILES.values() for word in profile.words}
    corpus |= {name for profile in demo.PROFILES.values() for name, _ in profile.products}
    corpus |= set(demo.CITY_SHORT.values())
    rng = random.Random(7)
    corpus |= {
        "".join(chr(rng.randrange(0x4E00, 0x9FA6)) for _ in range(rng.randrange(1, 9))) for _ in range(2000)
    }
    for text in corpus:
        for run in filter(None, re.split(r"[^\u4e00-\u9fff]+", text)):
            expected = lazy_pinyin(run, errors=lambda chars: [""] * len(chars))
            assert list(syllables(run)) == expected, run
