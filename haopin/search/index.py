"""Writes to the search index, called by the services that change searched fields.

``index_objects`` (re)analyses records from what the database holds now, inside the caller's
transaction, so the index commits or rolls back with the change it follows; ``remove`` drops
records; ``rebuild`` analyses whole tables in bulk (``manage.py search_rebuild``, the demo).
Each engine's full-text index follows the ``search_entry`` rows by itself (see ``models``).

Single writes cost one SELECT of the record's searched values and one upsert; bulk writes
do the same per chunk of ``CHUNK`` ids, and ``rebuild`` streams each table once and inserts
in batches (COPY on PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connection, transaction

from haopin.core.bulk import bulk_insert, refresh_statistics
from haopin.search import kinds
from haopin.search.analyser import analyse
from haopin.search.models import SearchEntry

CHUNK = 900  # ids per IN (...): under SQLite's historical 999-parameter limit
BATCH = 5000
COLUMNS = ("bigrams", "chars", "words", "codes")

_UPSERT = (
    "INSERT INTO search_entry (kind, object_id, bigrams, chars, words, codes) "
    "VALUES (%s, %s, %s, %s, %s, %s) "
    "ON CONFLICT (kind, object_id) DO UPDATE SET "
    "bigrams = excluded.bigrams, chars = excluded.chars, words = excluded.words, codes = excluded.codes"
)


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _ids(objects: Iterable[Any]) -> list[int]:
    return list(dict.fromkeys(getattr(obj, "pk", obj) for obj in objects))


def entry(kind: kinds.Kind, values: tuple[Any, ...]) -> dict[str, Any]:
    """The ``search_entry`` row of one record from ``(pk, *kind.paths)`` values."""
    texts = [v or "" for v in values[1 : 1 + len(kind.texts)]]
    codes = [v or "" for v in values[1 + len(kind.texts) :]]
    return {"kind": kind.label, "object_id": values[0], **analyse(texts, codes).columns()}


def index_objects(
    kind: str, objects: Iterable[Any], *, changed: Iterable[str] | None = None, cascade: bool = True
) -> None:
    """Analyse ``objects`` (instances or ids) of ``kind`` again from the database.

    ``changed`` names the fields a service changed: when given, records are analysed only if
    one of them is searched, and dependent kinds (a renamed owner's brands) only if one of
    the fields they include changed. ``cascade=False`` leaves dependents alone (new records
    have none, or the caller indexes them itself). Ids no longer in the table are removed.
    """
    spec = kinds.get(kind)
    ids = _ids(objects)
    if not ids:
        return
    names = None if changed is None else set(changed)
    if names is None or names & spec.sources:
        _write(spec, ids)
    for dependent in spec.dependents if cascade else ():
        if names is not None and not names & set(dependent.fields):
            continue
        model = kinds.get(dependent.kind).model
        for chunk in _chunks(ids, CHUNK):
            found = model._default_manager.filter(**{f"{dependent.via}_id__in": chunk}).values_list(
                "pk", flat=True
            )
            index_objects(dependent.kind, list(found), changed={dependent.via})


def _write(spec: kinds.Kind, ids: list[int]) -> None:
    manager = spec.model._default_manager
    for chunk in _chunks(ids, CHUNK):
        rows = [entry(spec, values) for values in manager.filter(pk__in=chunk).values_list("pk", *spec.paths)]
        if rows:
            with connection.cursor() as cursor:
                cursor.executemany(
                    _UPSERT, [(r["kind"], r["object_id"], *(r[c] for c in COLUMNS)) for r in rows]
                )
        gone = set(chunk) - {r["object_id"] for r in rows}
        if gone:
            remove(spec.label, gone)


def remove(kind: str, ids: Iterable[Any]) -> None:
    """Drop records (deleted objects) of ``kind`` from the index."""
    kinds.get(kind)
    for chunk in _chunks(_ids(ids), CHUNK):
        SearchEntry.objects.filter(kind=kind, object_id__in=chunk).delete()


def _rows(spec: kinds.Kind) -> Iterator[dict[str, Any]]:
    values = spec.model._default_manager.order_by().values_list("pk", *spec.paths)
    for row in values.iterator(chunk_size=BATCH):
        yield entry(spec, row)


@transaction.atomic
def rebuild(labels: Iterable[str] | None = None) -> dict[str, int]:
    """Analyse every record of ``labels`` (default: every kind) again; returns rows per kind.

    One transaction: searches see the old index until the new one is complete.
    """
    specs = [kinds.get(label) for label in labels] if labels is not None else list(kinds.KINDS.values())
    with _fts_triggers_suspended():
        counts = _reload(specs)
    optimise()
    return counts


@contextmanager
def _fts_triggers_suspended() -> Iterator[None]:
    """On SQLite, drop the triggers that keep ``search_fts`` in step with ``search_entry`` for
    the bulk load, then rebuild the FTS index from its content table in one statement and put
    the triggers back (all in the caller's transaction). A row trigger gives every inserted row
    a statement savepoint, whose cost grows with the size of the open transaction: inside the
    demo's seeding (one transaction) 230,000 rows had not finished after eight minutes that
    way (measured; stopped then)."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'search_entry'"
        )
        triggers = cursor.fetchall()
        for name, _ in triggers:
            cursor.execute(f"DROP TRIGGER {connection.ops.quote_name(name)}")
        yield
        cursor.execute("INSERT INTO search_fts(search_fts) VALUES ('rebuild')")
        for _, sql in triggers:
            cursor.execute(sql)


def _reload(specs: list[kinds.Kind]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for spec in specs:
        SearchEntry.objects.filter(kind=spec.label).delete()
        batch: list[dict[str, Any]] = []
        count = 0
        for row in _rows(spec):
            batch.append(row)
            if len(batch) >= BATCH:
                bulk_insert(SearchEntry, batch, batch_size=BATCH)
                count += len(batch)
                batch = []
        bulk_insert(SearchEntry, batch, batch_size=BATCH)
        counts[spec.label] = count + len(batch)
    return counts


def optimise() -> None:
    """After a bulk load: merge FTS5's segments into one (SQLite) and refresh the planner's
    statistics, without which SQLite may scan the wrong index first."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("INSERT INTO search_fts(search_fts) VALUES ('optimize')")
    refresh_statistics(SearchEntry)
