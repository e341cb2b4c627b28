"""Reads from the search index: the ids of records that match what a user typed.

``matching_ids(kind, text)`` is a lazy queryset of object ids for ``pk__in``: it adds no
query of its own, the list page's count and page queries each carry it as a subquery. The
text is analysed by ``analyser.parse``; every term must match (AND):

=========================  ===============================  ==================================
term                       SQLite (FTS5)                    PostgreSQL (tsquery)
=========================  ===============================  ==================================
青岛啤酒 (n ≥ 2 Chinese)    ``bigrams : "青岛 岛啤 啤酒"``     ``'青岛' <-> '岛啤' <-> '啤酒'``
茶 (one Chinese)            ``chars : "茶"``                  ``'茶'``
qd, qingdao, 2019 (word)   ``words : "qd" *``               ``'qd':*``
9133 (digits, ≥ 4)         ``(words : … * OR codes : "3319" *)``  ``('9133':* | '~3319':*)``
=========================  ===============================  ==================================

On PostgreSQL bigrams, single characters, words and codes share one ``tsvector``: they cannot
be mistaken for each other (two Chinese characters, one, Latin, ``~``-marked), and bigrams
alone carry positions for phrases.
"""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL

from haopin.search import kinds
from haopin.search.analyser import Term, parse
from haopin.search.models import SearchEntry


def _fts5(term: Term) -> str:
    # Tokens are Chinese characters, letters and digits only (the analyser's output), so
    # quoting them needs no escaping.
    if term.kind == "phrase":
        return f'bigrams : "{" ".join(term.tokens)}"'
    if term.kind == "char":
        return f'chars : "{term.tokens[0]}"'
    word = f'words : "{term.tokens[0]}" *'
    return f'({word} OR codes : "{term.tail}" *)' if term.tail else word


def _tsquery(term: Term) -> str:
    if term.kind == "phrase":
        return " <-> ".join(f"'{token}'" for token in term.tokens)
    if term.kind == "char":
        return f"'{term.tokens[0]}'"
    word = f"'{term.tokens[0]}':*"
    return f"({word} | '~{term.tail}':*)" if term.tail else word


def expression(terms: list[Term], vendor: str) -> str:
    """The full-text query of ``terms`` for ``vendor``'s index."""
    if vendor == "postgresql":
        return " & ".join(f"({_tsquery(t)})" for t in terms)
    return " AND ".join(_fts5(t) for t in terms)


def matching_ids(kind: str, text: str) -> QuerySet:
    """Ids of ``kind``'s records matching ``text``, usable as ``pk__in``; none when the text
    holds nothing searchable (only punctuation)."""
    kinds.get(kind)
    entries = SearchEntry.objects.filter(kind=kind)
    terms = parse(text)
    if not terms:
        return entries.none().values("object_id")
    query = expression(terms, connection.vendor)
    if connection.vendor == "postgresql":
        match = RawSQL("SELECT id FROM search_entry WHERE document @@ %s::tsquery", [query])
    else:
        match = RawSQL("SELECT rowid FROM search_fts WHERE search_fts MATCH %s", [query])
    return entries.filter(id__in=match).values("object_id")


# Matches a list page takes as literal ids on PostgreSQL (see ``ids_for_filter``).
LITERAL_IDS = 10_000


def ids_for_filter(kind: str, text: str) -> Any:
    """What a list page filters ``pk__in`` with: on PostgreSQL the matching ids themselves when
    there are up to ``LITERAL_IDS`` of them, else (and on SQLite) ``matching_ids``.

    With the subquery, PostgreSQL plans ``ORDER BY name LIMIT 20`` as a walk along the name
    index probing every row against the index (a product search for 茶 walked 74,441 products:
    447 ms); with the literal ids it reads those rows by primary key and sorts them. The ids
    cost one query that uses the GIN index (no LIMIT, so the planner cannot choose otherwise).
    """
    if connection.vendor != "postgresql":
        return matching_ids(kind, text)
    kinds.get(kind)
    terms = parse(text)
    if not terms:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT object_id FROM search_entry WHERE kind = %s AND document @@ %s::tsquery",
            [kind, expression(terms, connection.vendor)],
        )
        ids = [row[0] for row in cursor.fetchall()]
    return ids if len(ids) <= LITERAL_IDS else matching_ids(kind, text)
