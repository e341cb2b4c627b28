"""The search index: the ``search_entry`` table, each engine's full-text index over it, and
the rows of the records that exist when the app is installed."""

from django.db import migrations, models

# SQLite: an FTS5 table over search_entry's token columns (external content: the tokens are
# stored once, in search_entry), kept in step by triggers. unicode61 splits on the spaces
# between tokens and keeps each two-character bigram whole.
SQLITE = [
    (
        "CREATE VIRTUAL TABLE search_fts USING fts5(bigrams, chars, words, codes, "
        "content='search_entry', content_rowid='id', tokenize='unicode61', columnsize=0)",
        "DROP TABLE IF EXISTS search_fts",
    ),
    (
        "CREATE TRIGGER search_entry_ai AFTER INSERT ON search_entry BEGIN "
        "INSERT INTO search_fts(rowid, bigrams, chars, words, codes) "
        "VALUES (new.id, new.bigrams, new.chars, new.words, new.codes); END",
        "DROP TRIGGER IF EXISTS search_entry_ai",
    ),
    (
        "CREATE TRIGGER search_entry_ad AFTER DELETE ON search_entry BEGIN "
        "INSERT INTO search_fts(search_fts, rowid, bigrams, chars, words, codes) "
        "VALUES ('delete', old.id, old.bigrams, old.chars, old.words, old.codes); END",
        "DROP TRIGGER IF EXISTS search_entry_ad",
    ),
    (
        "CREATE TRIGGER search_entry_au AFTER UPDATE ON search_entry BEGIN "
        "INSERT INTO search_fts(search_fts, rowid, bigrams, chars, words, codes) "
        "VALUES ('delete', old.id, old.bigrams, old.chars, old.words, old.codes); "
        "INSERT INTO search_fts(rowid, bigrams, chars, words, codes) "
        "VALUES (new.id, new.bigrams, new.chars, new.words, new.codes); END",
        "DROP TRIGGER IF EXISTS search_entry_au",
    ),
]

# PostgreSQL: one tsvector per row, generated from the token columns, with a GIN index.
# Bigrams get their positions (phrases need them; the break token "0" is left out but keeps
# its position, so no phrase spans it); single characters and words need none; codes are
# marked with "~" so that a word query never matches a reversed code. The tokens hold no
# quotes or backslashes (the analyser emits letters and digits only), so quoting them as
# tsvector lexemes needs no escaping.
SEARCH_DOCUMENT = r"""
CREATE FUNCTION search_document(bigrams text, chars text, words text, codes text)
RETURNS tsvector LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT (
    coalesce((SELECT string_agg('''' || t || ''':' || least(n, 16383), ' ')
              FROM unnest(string_to_array(bigrams, ' ')) WITH ORDINALITY AS u(t, n)
              WHERE t <> '0'), '')
    || ' ' ||
    coalesce((SELECT string_agg('''' || t || '''', ' ')
              FROM unnest(string_to_array(chars || ' ' || words, ' ')) AS u(t)
              WHERE t <> ''), '')
    || ' ' ||
    coalesce((SELECT string_agg('''~' || t || '''', ' ')
              FROM unnest(string_to_array(codes, ' ')) AS u(t)
              WHERE t <> ''), '')
)::tsvector
$$
"""
POSTGRESQL = [
    (SEARCH_DOCUMENT, "DROP FUNCTION IF EXISTS search_document(text, text, text, text)"),
    (
        "ALTER TABLE search_entry ADD COLUMN document tsvector "
        "GENERATED ALWAYS AS (search_document(bigrams, chars, words, codes)) STORED",
        "ALTER TABLE search_entry DROP COLUMN IF EXISTS document",
    ),
    (
        "CREATE INDEX search_entry_document ON search_entry USING gin (document)",
        "DROP INDEX IF EXISTS search_entry_document",
    ),
]


def _statements(schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        return SQLITE
    if vendor == "postgresql":
        return POSTGRESQL
    raise NotImplementedError(f"no full-text index for {vendor}")


def create_fulltext(apps, schema_editor):
    for forward, _ in _statements(schema_editor):
        schema_editor.execute(forward)


def drop_fulltext(apps, schema_editor):
    for _, backward in reversed(_statements(schema_editor)):
        schema_editor.execute(backward)


def index_existing(apps, schema_editor):
    """Rows for the records already in the database (an installation that predates search)."""
    from haopin.search import kinds
    from haopin.search.index import entry

    search_entry = apps.get_model("search", "SearchEntry")
    for kind in kinds.KINDS.values():
        rows = apps.get_model(kind.label).objects.order_by().values_list("pk", *kind.paths)
        batch = []
        for values in rows.iterator(chunk_size=5000):
            batch.append(search_entry(**entry(kind, values)))
            if len(batch) >= 5000:
                search_entry.objects.bulk_create(batch)
                batch = []
        search_entry.objects.bulk_create(batch)


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("accounts", "0002_initial"),
        ("registry", "0002_list_indexes"),
    ]

    operations = [
        migrations.CreateModel(
            name="SearchEntry",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("kind", models.CharField(max_length=40, verbose_name="类型")),
                ("object_id", models.BigIntegerField(verbose_name="对象标识")),
                ("bigrams", models.TextField(blank=True, verbose_name="汉字二元组")),
                ("chars", models.TextField(blank=True, verbose_name="单字")),
                ("words", models.TextField(blank=True, verbose_name="词与拼音")),
                ("codes", models.TextField(blank=True, verbose_name="代码（倒序）")),
            ],
            options={
                "verbose_name": "搜索索引",
                "verbose_name_plural": "搜索索引",
                "db_table": "search_entry",
                "ordering": ["kind", "object_id"],
                "constraints": [
                    models.UniqueConstraint(fields=("kind", "object_id"), name="search_entry_unique")
                ],
            },
        ),
        migrations.RunPython(create_fulltext, drop_fulltext),
        migrations.RunPython(index_existing, migrations.RunPython.noop),
    ]
