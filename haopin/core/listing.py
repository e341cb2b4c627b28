"""Workspace list pages: filters, search, sorting, pagination and Excel export, declared once.

A domain declares a ``Listing`` subclass (columns, filters, the scoped queryset from its
selectors) and its view returns ``MyListing(request).response()``. The same declaration
renders the HTML table, answers htmx requests with just the table fragment, and streams the
filtered rows to ``.xlsx``. Query count does not depend on the page size: columns that follow
foreign keys must be listed in ``select_related``.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast
from urllib.parse import urlencode

from django.core.exceptions import FieldDoesNotExist
from django.core.paginator import Paginator
from django.db.models import Field, Model, Q, QuerySet
from django.http import FileResponse, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from haopin.core.formatting import cn_date, cn_datetime
from haopin.core.http import HtmxHttpRequest, content_disposition

EXPORT_LIMIT = 200_000


@dataclass
class Column:
    key: str
    label: str
    sort: str | None = None
    link: bool = False
    value: Callable[[Any], Any] | None = None
    width: int = 16

    def get(self, obj: Any) -> Any:
        if self.value is not None:
            return self.value(obj)
        current = obj
        for part in self.key.split("__"):
            current = getattr(current, part, None)
            if current is None:
                return None
        if callable(current) and not isinstance(current, Model):
            current = current()
        return current


@dataclass
class Filter:
    name: str
    label: str
    choices: Callable[[HttpRequest], Sequence[tuple[str, str]]]
    apply: Callable[[QuerySet, str], QuerySet]

    @staticmethod
    def lookup(
        name: str, label: str, lookup: str, choices: Callable[[HttpRequest], Sequence[tuple[str, str]]]
    ) -> Filter:
        return Filter(name, label, choices, lambda qs, value: qs.filter(**{lookup: value}))


@dataclass
class Cell:
    text: str
    url: str = ""


@dataclass
class Row:
    obj: Any
    cells: list[Cell] = field(default_factory=list)


def display(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, dt.datetime):
        return cn_datetime(value)
    if isinstance(value, dt.date):
        return cn_date(value)
    if isinstance(value, list | tuple):
        return "、".join(str(v) for v in value) or "—"
    return str(value)


def excel_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).replace(tzinfo=None)
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, dt.date | int | float):
        return value
    if isinstance(value, list | tuple):
        return "、".join(str(v) for v in value)
    return str(value)


class Listing(ABC):
    """Subclass, set the class attributes and define ``queryset``."""

    title = ""
    template = "core/list.html"
    columns: list[Column] = []
    filters: list[Filter] = []
    search_fields: list[str] = []
    # A kind of ``haopin.search`` (``"registry.brand"``): the search box then asks its index
    # (Chinese substrings, pinyin, initials, code tails) instead of ``icontains`` on
    # ``search_fields``, which scans every row twice (count and page); ``search_fields`` then
    # default to the fields the kind indexes (the list template shows the box when it has any).
    search_kind = ""
    search_placeholder = "搜索名称"
    default_sort = "pk"
    select_related: list[str] = []
    page_sizes = (20, 50, 100)
    export_name = "导出"
    actions: list[tuple[str, str]] = []  # (label, url) buttons above the table

    def __init__(self, request: HttpRequest, **context: Any):
        self.request = request
        self.extra_context = context
        if self.search_kind and not self.search_fields:
            from haopin.search import kinds

            self.search_fields = list(kinds.get(self.search_kind).paths)

    @abstractmethod
    def queryset(self) -> QuerySet:
        """The rows this user may see: a selector of the listing's domain, already scoped."""

    def object_url(self, obj: Any) -> str:
        return obj.get_absolute_url() if hasattr(obj, "get_absolute_url") else ""

    # --- parameters -------------------------------------------------------------------------
    @property
    def params(self) -> dict[str, str]:
        # A parsed query string has a string for each key (the stubs allow a list).
        return {k: cast(str, v) for k, v in self.request.GET.items() if v != ""}

    def sort_key(self) -> str:
        wanted = self.request.GET.get("sort", "")
        allowed = {c.sort for c in self.columns if c.sort}
        if wanted.lstrip("-") in allowed:
            return wanted
        return self.default_sort

    def page_size(self) -> int:
        try:
            size = int(self.request.GET.get("size", self.page_sizes[0]))
        except ValueError:
            return self.page_sizes[0]
        return size if size in self.page_sizes else self.page_sizes[0]

    def filtered(self) -> QuerySet:
        qs = self.queryset()
        for flt in self.filters:
            value = self.request.GET.get(flt.name, "")
            if value and value in {str(k) for k, _ in flt.choices(self.request)}:
                qs = flt.apply(qs, value)
        term = self.request.GET.get("q", "").strip()[:100]
        if term:
            qs = self.search(qs, term)
        sort = self.sort_key()
        # A tie-break keeps pages stable when sorting by a non-unique column; after a unique one
        # it would only stop the database from using that column's index alone.
        if self._is_unique(qs.model, sort.lstrip("-")):
            qs = qs.order_by(sort)
        else:
            qs = qs.order_by(sort, "-pk" if sort.startswith("-") else "pk")
        if self.select_related:
            qs = qs.select_related(*self.select_related)
        return qs

    def search(self, qs: QuerySet, term: str) -> QuerySet:
        """The rows of ``qs`` that match what was typed in the search box."""
        if self.search_kind:
            from haopin.search.query import ids_for_filter

            return qs.filter(pk__in=ids_for_filter(self.search_kind, term))
        if not self.search_fields:
            return qs
        q = Q()
        for name in self.search_fields:
            q |= Q(**{f"{name}__icontains": term})
        return qs.filter(q)

    @staticmethod
    def _is_unique(model: type[Model], path: str) -> bool:
        if path == "pk":
            return True
        if "__" in path:
            return False
        try:
            return bool(cast(Field, model._meta.get_field(path)).unique)
        except FieldDoesNotExist:
            return False

    def count_hint(self) -> int | None:
        """The number of rows when it is known without counting them (e.g. an unfiltered list
        whose total is kept elsewhere); None to count."""
        return None

    # --- responses --------------------------------------------------------------------------
    def response(self) -> HttpResponse | FileResponse:
        if self.request.GET.get("export") == "xlsx":
            return self.export()
        qs = self.filtered()
        paginator = Paginator(qs, self.page_size())
        hint = self.count_hint()
        if hint is not None:
            paginator.count = hint  # overrides the cached_property; no COUNT(*) query
        page = paginator.get_page(self.request.GET.get("page"))
        rows = [self.row(obj) for obj in page.object_list]
        context = {
            "listing": self,
            "title": self.title,
            "page": page,
            "rows": rows,
            "headers": self.headers(),
            "filter_widgets": self.filter_widgets(),
            "q": self.request.GET.get("q", ""),
            "size": self.page_size(),
            "export_url": "?" + urlencode({**self.params, "export": "xlsx"}),
            "page_query": urlencode({k: v for k, v in self.params.items() if k != "page"}),
            **self.extra_context,
        }
        template = self.template
        if getattr(self.request, "htmx", False) and not cast(HtmxHttpRequest, self.request).htmx.boosted:
            template = f"{self.template}#table"
        return TemplateResponse(self.request, template, context)

    def row(self, obj: Any) -> Row:
        url = self.object_url(obj)
        return Row(obj, [Cell(display(c.get(obj)), url if c.link else "") for c in self.columns])

    def headers(self) -> list[dict[str, Any]]:
        current = self.sort_key()
        headers = []
        for column in self.columns:
            entry: dict[str, Any] = {"label": column.label, "url": "", "state": ""}
            if column.sort:
                descending = current == column.sort
                target = f"-{column.sort}" if descending else column.sort
                params = {**self.params, "sort": target}
                params.pop("page", None)
                entry["url"] = "?" + urlencode(params)
                if current.lstrip("-") == column.sort:
                    entry["state"] = "desc" if current.startswith("-") else "asc"
            headers.append(entry)
        return headers

    def filter_widgets(self) -> list[dict[str, Any]]:
        return [
            {
                "name": f.name,
                "label": f.label,
                "value": self.request.GET.get(f.name, ""),
                "choices": [(str(k), v) for k, v in f.choices(self.request)],
            }
            for f in self.filters
        ]

    def export(self) -> FileResponse:
        """All filtered rows (up to EXPORT_LIMIT) as an .xlsx file, written in streaming mode."""
        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet(self.export_name[:31])
        for index, column in enumerate(self.columns):
            sheet.column_dimensions[get_column_letter(index + 1)].width = column.width
        bold = Font(bold=True)
        header = []
        for column in self.columns:
            cell = WriteOnlyCell(sheet, value=column.label)
            cell.font = bold
            header.append(cell)
        sheet.append(header)
        for obj in self.filtered()[:EXPORT_LIMIT].iterator(chunk_size=2000):
            sheet.append([excel_value(c.get(obj)) for c in self.columns])
        handle = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it
        workbook.save(handle)
        handle.seek(0)
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        name = f"{self.export_name}-{stamp}.xlsx"
        response = FileResponse(
            handle, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        response["Content-Disposition"] = content_disposition(name)
        return response
