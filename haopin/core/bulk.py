"""Fast batched writes for the few places that write tens of thousands of rows at once: bulk
imports and the audit events they cause, expert draws (18,000 seats for 2,000 applications),
aggregated results, demo and benchmark data.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection
from django.utils import timezone

# Bulk inserts of new rows use executemany (COPY on PostgreSQL) rather than bulk_create.
# Measured on the 100,000-row import benchmark file (245,000 new enterprises, brands and brand
# sources): bulk_create spent 24.6 s of CPU, about 95 µs per row, nearly all of it in Django
# preparing every field of every object in Python (pre_save, get_db_prep_save and placeholder
# SQL per field); executemany with each column's preparation chosen once per column takes about
# a sixth of that. Both write in batches inside the caller's transaction. ``bulk_insert`` fills
# defaults, callable defaults (uuid) and auto_now timestamps from the model's own fields, so a
# field added to a model later is filled as bulk_create would fill it. On PostgreSQL, COPY adapts
# rows in psycopg's C code and streams them, where Django's client-side parameter binding would
# quote every value again in Python (the 18,000 seats of a draw: 4 s with bulk_create).

COPY_FROM_ROWS = 500

# Field types whose Python values both database drivers take as they are.
_PLAIN_TYPES = {
    "CharField",
    "TextField",
    "SlugField",
    "EmailField",
    "BooleanField",
    "IntegerField",
    "BigIntegerField",
    "SmallIntegerField",
    "PositiveIntegerField",
    "PositiveSmallIntegerField",
    "PositiveBigIntegerField",
    "ForeignKey",
    "OneToOneField",
}
_MISSING = object()


def _column(field: Any, now: dt.datetime) -> Any:
    """A function row → database value for one column (rows are dicts by field name)."""
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        stamp = field.get_db_prep_save(now, connection=connection)
        return lambda row: stamp
    name = field.name
    plain = field.get_internal_type() in _PLAIN_TYPES

    def prepare(value: Any) -> Any:
        return value if plain else field.get_db_prep_save(value, connection=connection)

    if field.has_default() and callable(field.default):
        make = field.default

        def value_of(row: dict[str, Any]) -> Any:
            value = row.get(name, _MISSING)
            return prepare(make() if value is _MISSING else value)

        return value_of
    default = prepare(field.get_default())
    if plain:
        return lambda row: row.get(name, default)

    def prepared(row: dict[str, Any]) -> Any:
        value = row.get(name, _MISSING)
        return default if value is _MISSING else prepare(value)

    return prepared


def bulk_insert(model: Any, rows: list[dict[str, Any]], *, batch_size: int = 2000) -> None:
    """INSERT ``rows`` (dicts by field name) in batches; see the note above. Returns nothing:
    callers that need the new keys look them up by a natural key afterwards."""
    if not rows:
        return
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    now = timezone.now()
    getters = [_column(f, now) for f in fields]
    quote = connection.ops.quote_name
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "
        f"VALUES ({', '.join(['%s'] * len(fields))})"
    )
    with connection.cursor() as cursor:
        # COPY pays off from hundreds of rows; small writes stay ordinary INSERTs.
        if connection.vendor == "postgresql" and len(rows) >= COPY_FROM_ROWS:
            names = ", ".join(quote(f.column) for f in fields)
            with cursor.copy(f"COPY {quote(model._meta.db_table)} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(tuple(get(row) for get in getters))
            return
        for start in range(0, len(rows), batch_size):
            cursor.executemany(
                sql, [tuple(get(row) for get in getters) for row in rows[start : start + batch_size]]
            )


def bulk_update(model: Any, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """UPDATE many rows by primary key, ``rows`` being (pk, *values), with one prepared statement.

    ``bulk_update`` builds a CASE expression per field over every row; for the six result fields
    of 2,000 applications that costs seconds, against milliseconds for ``executemany``.
    """
    fields = [model._meta.get_field(name) for name in columns]
    quote = connection.ops.quote_name
    sql = "UPDATE {} SET {} WHERE {} = %s".format(
        quote(model._meta.db_table),
        ", ".join(f"{quote(f.column)} = %s" for f in fields),
        quote(model._meta.pk.column),
    )
    prepared = [
        [
            value if value is None or type(value) in (int, str) else f.get_db_prep_save(value, connection)
            for f, value in zip(fields, values, strict=True)
        ]
        + [pk]
        for pk, *values in rows
    ]
    if prepared:
        with connection.cursor() as cursor:
            cursor.executemany(sql, prepared)


def refresh_statistics(*models: Any) -> None:
    """Update the query planner's statistics after a bulk load of ``models``' tables.

    Without them SQLite picks poor plans for freshly filled tables (measured: a status sort of
    100,000 brands went from 46 to 432 ms with the new indexes but no statistics); PostgreSQL's
    autovacuum catches up only some time after a load.
    """
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for model in models:
            cursor.execute(f"ANALYZE {quote(model._meta.db_table)}")
