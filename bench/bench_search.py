"""Search on the workspace lists with 100,000 brands: the search index against ``LIKE``.

Issue 2 asks every list page to answer in under 100 ms at the median with 100,000 brands; a
search used to be ``icontains`` (``LIKE '%…%'``), which scans every row twice (the count and
the page). The lists now ask the search index (``haopin.search``). This benchmark measures
both on the same data in the same run and prints the ratio index / LIKE.

Set-up: the database of ``bench_lists`` (``seed_demo --scale large``, kept between runs with
its fingerprint; see that module), whose seeding also builds the index. First the whole index
is rebuilt once with ``search_rebuild`` (floor: well under a minute, 60 s).

Measurement, in-process with Django's test Client (all middleware, templates, sessions),
signed in as ``office`` (everything) and ``city-jinan`` (a city's subtree; it may not read the
audit log): for each page and each term a user would type (Chinese of one to four
characters, two terms, pinyin, initials, a code's beginning and end), the median of 30
requests after 3 warm-up requests, first with the index (the page as it is), then with the
page's former ``icontains`` search on its former fields (the same page class with
``search_kind`` unset). Floor: the index's median under 100 ms. Each line also gives the rows
found both ways: for Chinese terms the two must agree (the index is an exact substring
match), pinyin and code tails find nothing with LIKE.

    python -m bench search                                   # var/bench/search
    HAOPIN_DATA_DIR=var/bench/lists python -m bench.bench_search --repeat 10
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from bench import bench_lists
from bench.bench_lists import _client, _count, _load, explain_slowest, median_wall_and_cpu
from bench.harness import Result, once_seconds

FLOOR = 0.100
REBUILD_FLOOR = 60.0
USERS = ["office", "city-jinan"]
REPEAT = 30
WARMUP = 3


@dataclass(frozen=True)
class Page:
    url_name: str
    listing: str  # "module:Class" of the page's Listing
    like_fields: tuple[str, ...]  # the icontains search it had before the index
    terms: tuple[str, ...]


def _pages() -> list[Page]:
    from haopin.registry.models import Enterprise, Product

    # Codes of real rows, so that the code searches find something.
    uscc = Enterprise.objects.order_by("pk").values_list("uscc", flat=True)[1000]
    gtin = Product.objects.exclude(gtin=None).order_by("pk").values_list("gtin", flat=True)[1000]
    return [
        Page(
            "registry:brand-list",
            "haopin.registry.views:BrandListing",
            ("name", "owner__name"),
            ("鲁润", "青岛", "茶", "烟台苹果", "济南 食品", "qingdao", "qd", "lurun"),
        ),
        Page(
            "registry:product-list",
            "haopin.registry.views:ProductListing",
            ("name", "gtin", "brand__name"),
            ("茶", "酱油", "绿茶 250g", "jiangyou", gtin[:7], gtin[-6:]),
        ),
        Page(
            "registry:enterprise-list",
            "haopin.registry.views:EnterpriseListing",
            ("name", "uscc"),
            ("食品", "青岛", "有限公司", "qd", uscc[:8], uscc[-6:]),
        ),
        Page(
            "workspace:audit-log",
            "haopin.core.views:AuditListing",
            ("target_label", "target_id"),
            ("鲁润", "青岛", "qd", "酱油"),
        ),
    ]


def _listing_class(path: str) -> Any:
    import importlib

    module, name = path.split(":")
    return getattr(importlib.import_module(module), name)


@contextmanager
def like_search(page: Page) -> Iterator[None]:
    """The page's former search: ``icontains`` on its former fields, index unset."""
    cls = _listing_class(page.listing)
    names = ("search_kind", "search_fields", "search_kinds")
    saved = {name: cls.__dict__[name] for name in names if name in cls.__dict__}
    cls.search_kind = ""
    cls.search_kinds = ()
    cls.search_fields = list(page.like_fields)
    try:
        yield
    finally:
        for name in names:
            if name in saved:
                setattr(cls, name, saved[name])
            elif name in cls.__dict__:
                delattr(cls, name)


def measure(client: Any, username: str, page: Page) -> list[Result]:
    from django.urls import reverse

    url = reverse(page.url_name)
    label = page.url_name.split(":")[1]
    if client.get(url).status_code in (403, 404):
        print(f"skip {label} as {username}: not for this role (by policy)")
        return []
    results = []
    for term in page.terms:
        params = {"q": term}
        indexed = client.get(url, params)
        index_rows = _count(indexed.content.decode())
        index_wall, index_cpu = median_wall_and_cpu(
            lambda p=params: client.get(url, p), repeat=REPEAT, warmup=WARMUP
        )
        with like_search(page):
            like_rows = _count(client.get(url, params).content.decode())
            like_wall, like_cpu = median_wall_and_cpu(
                lambda p=params: client.get(url, p), repeat=REPEAT, warmup=WARMUP
            )
        result = Result(
            f"{label} [{username}] q={term}",
            index_wall,
            baseline_name="LIKE",
            baseline_seconds=like_wall,
            limit_seconds=FLOOR,
            note=f"cpu {index_cpu * 1000:.1f} vs {like_cpu * 1000:.1f} ms; index {index_rows or '0 rows'}, "
            f"LIKE {like_rows or '0 rows'}",
            extra={"like": like_wall},
        )
        results.append(result)
        print(result.line(), flush=True)
        if index_wall > FLOOR / 2:
            for line in explain_slowest(client, url, params):
                print(line)
    return results


def run() -> list[Result]:
    bench_lists._setup()
    bench_lists.ensure_seeded()
    bench_lists._static_files()
    bench_lists.describe_environment()
    from django.core.management import call_command

    from haopin.search.models import SearchEntry

    seconds, _ = once_seconds(lambda: call_command("search_rebuild", verbosity=0))
    rebuild = Result(
        "search_rebuild (every kind)",
        seconds,
        limit_seconds=REBUILD_FLOOR,
        note=f"{SearchEntry.objects.count():,} records",
    )
    print(rebuild.line(), flush=True)
    results = [rebuild]
    pages = _pages()
    for username in USERS:
        client = _client(username)
        for page in pages:
            results.extend(measure(client, username, page))
    return results


def main(argv: list[str] | None = None) -> int:
    global REPEAT
    parser = argparse.ArgumentParser(
        prog="python -m bench.bench_search", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--repeat", type=int, default=REPEAT, help="requests per median (30)")
    args = parser.parse_args(argv)
    REPEAT = args.repeat
    results = run()
    searches = [r for r in results if r.baseline_name == "LIKE"]
    failed = [r for r in results if not r.ok]
    if searches:
        ratios = [r.ratio for r in searches if r.ratio is not None]
        under = len([r for r in searches if r.ok])
        index_median = statistics.median(r.seconds for r in searches) * 1000
        like_median = statistics.median(r.baseline_seconds for r in searches) * 1000
        print(
            f"\nsearch: {under}/{len(searches)} medians under {FLOOR * 1000:.0f} ms; median of medians: "
            f"index {index_median:.1f} ms, LIKE {like_median:.1f} ms; "
            f"ratio index/LIKE: median {statistics.median(ratios):.2f}, worst {max(ratios):.2f}"
        )
    print(f"at end: {_load()}")
    return 0 if not failed else 1


if __name__ == "__main__":
    sys.exit(main())
