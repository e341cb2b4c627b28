"""The search index: one row of analysed tokens per searchable record.

Each engine indexes these columns with its own full-text index, created by this app's
migrations: an FTS5 table (``search_fts``, tokenizer ``unicode61``, kept in step by triggers)
on SQLite; a generated ``tsvector`` column ``document`` with a GIN index on PostgreSQL. The
model knows only the token strings, which are the same on both engines.
"""

from __future__ import annotations

from django.db import models


class SearchEntry(models.Model):
    """The tokens of one record of one kind (``registry.brand`` and object id 42)."""

    kind = models.CharField("类型", max_length=40)
    object_id = models.BigIntegerField("对象标识")
    bigrams = models.TextField("汉字二元组", blank=True)
    chars = models.TextField("单字", blank=True)
    words = models.TextField("词与拼音", blank=True)
    codes = models.TextField("代码（倒序）", blank=True)

    class Meta:
        db_table = "search_entry"
        ordering = ["kind", "object_id"]
        verbose_name = verbose_name_plural = "搜索索引"
        constraints = [models.UniqueConstraint(fields=["kind", "object_id"], name="search_entry_unique")]

    def __str__(self) -> str:
        return f"{self.kind} {self.object_id}"
