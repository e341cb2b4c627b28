"""Workspace list pages with 100,000 brands: median time per request, and query counts.

Issue 2: "with 100,000 brands, every workspace list page answers with a query count that does
not grow with the page size, and in under 100 ms at the median."

Set-up, owned by this module and kept between runs: the data directory's database is migrated
and seeded with ``seed_demo --scale large`` (the demo province plus 30,000 enterprises, 100,000
brands and 100,000 products; about 290,000 audit events). A fingerprint of every migration
file, of the demo builder and of the Django version is stored beside it
(``bench_lists.json``); when it changes, the database is rebuilt from nothing.

Measurement, in-process with Django's test Client (the whole middleware stack, templates and
sessions; no network), signed in as ``office`` (sees everything) and as ``city-jinan`` (a
city's subtree): for every list page, the median of 30 requests after 3 warm-up requests of
- the plain first page,
- each filter (its first choice), read from the page's filter form,
- a search,
- each sortable column other than the default, read from the table's header links,
- the last page (the largest OFFSET).
The baseline is ``GET /api/v1/health`` (no database work) measured the same way in the same
run. Floor: median < 100 ms (wall clock). Each line also gives the median CPU time of the
process per request, which the machine's load does not inflate. The number of queries for the
plain page is counted at page sizes 20 and 100 and must be equal. For any request slower
than half the floor, the queries of one request are timed one by one and the slowest is
explained (``EXPLAIN QUERY PLAN`` on SQLite, ``EXPLAIN ANALYZE`` on PostgreSQL).

    python -m bench lists                      # through the runner (var/bench/lists)
    HAOPIN_DATA_DIR=var/bench/lists python -m bench.bench_lists --repeat 10 --pages brand-list

Pages whose URL name does not resolve (not written yet) are skipped and named.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import html
import json
import os
import re
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from bench.harness import Result

ROOT = Path(__file__).resolve().parent.parent
FLOOR = 0.100  # seconds, median
USERS = ["office", "city-jinan"]
PASSWORD = "demo12345"
SEED_SCALE = "large"


@dataclass(frozen=True)
class Page:
    url_name: str
    search: str  # a term a user would type


PAGES = [
    Page("registry:enterprise-list", "食品"),
    Page("registry:brand-list", "鲁润"),
    Page("registry:product-list", "茶"),
    Page("accounts:organisation-list", "市场监督"),
    Page("workspace:audit-log", "鲁润"),
    # Other workspace lists, measured the same way when they exist.
    Page("accounts:registration-list", "食品"),
    Page("accounts:expert-list", "大学"),
    Page("registry:import-list", "品牌"),
]

REPEAT = 30
WARMUP = 3
ONLY_PAGES: set[str] = set()
ONLY_USERS: list[str] = []
problems: list[str] = []  # query counts that grow, pages that fail: they fail the run too


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "haopin.config.settings")
    os.environ.setdefault("HAOPIN_DATA_DIR", str(ROOT / "var" / "bench" / "lists"))
    os.environ.setdefault("HAOPIN_DEBUG", "0")
    import django

    django.setup()


# --- the seeded database, kept between runs ----------------------------------------------------


def _fingerprint() -> str:
    import django

    sha = hashlib.sha256(f"django {django.get_version()} scale {SEED_SCALE}".encode())
    files = [*sorted((ROOT / "haopin").glob("*/migrations/*.py")), ROOT / "haopin" / "core" / "demo.py"]
    for path in files:
        sha.update(str(path.relative_to(ROOT)).encode())
        sha.update(path.read_bytes())
    return sha.hexdigest()


def _seeded_state(marker: Path, fingerprint: str) -> dict[str, Any] | None:
    from django.db import DatabaseError

    from haopin.registry.models import Brand

    if not marker.exists():
        return None
    state = json.loads(marker.read_text(encoding="utf-8"))
    if state.get("fingerprint") != fingerprint:
        return None
    try:
        if Brand.objects.count() < 100_000:
            return None
    except DatabaseError:
        return None
    return state


def _reset_database() -> None:
    from django.db import connection

    if connection.vendor == "sqlite":
        name = Path(connection.settings_dict["NAME"])
        connection.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{name}{suffix}").unlink(missing_ok=True)
    else:
        with connection.cursor() as cursor:
            cursor.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")


def ensure_seeded() -> dict[str, Any]:
    """Migrate and seed the large demo province unless the database already holds it for the
    current schema and builder."""
    from django.conf import settings
    from django.core.management import call_command

    marker = settings.DATA_DIR / "bench_lists.json"
    fingerprint = _fingerprint()
    state = _seeded_state(marker, fingerprint)
    if state is not None:
        print(f"reusing the seeded database (seeded {state['seeded_at']} in {state['seed_seconds']:.0f} s)")
        return state
    print("schema or demo builder changed (or no database yet): migrating and seeding --scale large …")
    marker.unlink(missing_ok=True)
    _reset_database()
    call_command("migrate", verbosity=0, interactive=False)
    started = time.perf_counter()
    call_command("seed_demo", "--scale", SEED_SCALE, "--password", PASSWORD)
    seconds = time.perf_counter() - started
    state = {
        "fingerprint": fingerprint,
        "seed_seconds": seconds,
        "seeded_at": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
    }
    marker.write_text(json.dumps(state, indent=2), encoding="utf-8")
    return state


def _static_files() -> None:
    # With HAOPIN_DEBUG=0 templates use the hashed names from collectstatic's manifest.
    from django.core.management import call_command

    call_command("collectstatic", "--noinput", verbosity=0)


# --- pages -------------------------------------------------------------------------------------

_SELECT = re.compile(r'<select name="([^"]+)">(.*?)</select>', re.S)
_OPTION = re.compile(r'<option value="([^"]*)"')
_HEADER = re.compile(r'<th scope="col"( aria-sort="[a-z]+")?><a href="([^"]+)"')
_PAGES = re.compile(r"第 \d+/(\d+) 页")
_COUNT = re.compile(r"共 ([\d,]+) 条")


@dataclass
class Variant:
    label: str
    params: dict[str, str]


def variants(page: Page, body: str) -> list[Variant]:
    """What to measure on a list page, read from its own filter form, headers and pager."""
    found = [Variant("plain", {})]
    for name, options in _SELECT.findall(body):
        if name == "size":
            continue
        values = [v for v in _OPTION.findall(options) if v]
        if values:
            value = html.unescape(values[0])
            found.append(Variant(f"filter {name}={value}", {name: value}))
    found.append(Variant(f"search {page.search}", {"q": page.search}))
    for current, href in _HEADER.findall(body):
        if current:
            continue  # the default sort is the plain page
        params = dict(parse_qsl(urlsplit(html.unescape(href)).query))
        found.append(Variant(f"sort {params.get('sort', '?')}", params))
    pages = _PAGES.search(body)
    if pages and int(pages.group(1)) > 1:
        found.append(Variant(f"last page ({pages.group(1)})", {"page": pages.group(1)}))
    return found


def median_wall_and_cpu(fn: Any, *, repeat: int, warmup: int) -> tuple[float, float]:
    """Median wall-clock and CPU seconds of ``fn``. On a shared machine the wall time grows with
    the load; the CPU time (this process's) tells how much work a request itself costs."""
    for _ in range(warmup):
        fn()
    walls, cpus = [], []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        fn()
        cpus.append(time.process_time() - cpu)
        walls.append(time.perf_counter() - wall)
    return statistics.median(walls), statistics.median(cpus)


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min), {five:.1f} (5 min) on {os.cpu_count()} CPUs"


def _short(sql: str) -> str:
    """The query without its column list (``SELECT COUNT(*)`` stays as it is)."""
    return re.sub(r'^SELECT (DISTINCT )?"[^(]*? FROM ', r"SELECT \1… FROM ", sql, count=1, flags=re.S)[:900]


def _count(body: str) -> str:
    match = _COUNT.search(body)
    return f"{match.group(1)} rows" if match else ""


def _client(username: str) -> Any:
    from django.test import Client

    client = Client(SERVER_NAME="127.0.0.1")  # an allowed host with HAOPIN_DEBUG=0
    if not client.login(username=username, password=PASSWORD):
        raise SystemExit(f"cannot sign in as {username!r} with the demo password")
    return client


def query_counts(client: Any, url: str) -> tuple[int, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = []
    for size in (20, 100):
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url, {"size": size})
        assert response.status_code == 200, response.status_code
        counts.append(len(captured.captured_queries))
    return counts[0], counts[1]


def explain_slowest(client: Any, url: str, params: dict[str, str]) -> list[str]:
    """Time each query of one request again and explain the slowest (the one to fix)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        client.get(url, params)
    timed = []
    with connection.cursor() as cursor:
        for query in captured.captured_queries:
            sql = query["sql"]
            if not sql.lstrip().upper().startswith("SELECT"):
                continue
            samples = []
            for _ in range(3):
                start = time.perf_counter()
                cursor.execute(sql)
                cursor.fetchall()
                samples.append(time.perf_counter() - start)
            timed.append((min(samples), sql))
        if not timed:
            return []
        timed.sort(reverse=True)
        total = sum(t for t, _ in timed)
        lines = [f"    SQL: {len(timed)} SELECTs, {total * 1000:.1f} ms in all"]
        if timed[0][0] < 0.005:
            return [*lines, "    (no query takes 5 ms: the time is spent in Python, rendering the page)"]
        lines.append("    slowest:")
        for seconds, sql in timed[:2]:
            lines.append(f"    {seconds * 1000:8.1f} ms  {_short(sql)}")
        slowest = timed[0][1]
        if connection.vendor == "sqlite":
            cursor.execute("EXPLAIN QUERY PLAN " + slowest)
            plan = [f"      {row[-1]}" for row in cursor.fetchall()]
        else:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + slowest)
            plan = [f"      {row[0]}" for row in cursor.fetchall()]
        return [*lines, "    plan of the slowest:", *plan]


def measure_page(client: Any, username: str, page: Page, baseline: float) -> list[Result]:
    from django.urls import NoReverseMatch, reverse

    label = page.url_name.split(":")[1]
    try:
        url = reverse(page.url_name)
    except NoReverseMatch:
        print(f"skip {page.url_name}: the URL name does not resolve (page not written yet)")
        return []
    first = client.get(url)
    if first.status_code in (403, 404):
        print(f"skip {label} as {username}: {first.status_code} for this role (by policy)")
        return []
    if first.status_code != 200:
        problems.append(f"{label} as {username}: HTTP {first.status_code}")
        print(f"FAIL {label} as {username}: HTTP {first.status_code}")
        return []
    body = first.content.decode()

    small, large = query_counts(client, url)
    same = "ok" if small == large else "FAIL"
    print(f"queries {label} [{username}]: {small} at page size 20, {large} at page size 100 [same: {same}]")
    if small != large:
        problems.append(f"{label} as {username}: {small} queries at size 20, {large} at size 100")

    results = []
    for variant in variants(page, body):
        response = client.get(url, variant.params)
        if response.status_code != 200:
            problems.append(f"{label} {variant.label} as {username}: HTTP {response.status_code}")
            print(f"FAIL {label} [{username}] {variant.label}: HTTP {response.status_code}")
            continue
        seconds, cpu = median_wall_and_cpu(
            lambda v=variant: client.get(url, v.params), repeat=REPEAT, warmup=WARMUP
        )
        result = Result(
            f"{label} [{username}] {variant.label}",
            seconds,
            baseline_name="health",
            baseline_seconds=baseline,
            limit_seconds=FLOOR,
            note=f"cpu {cpu * 1000:.1f} ms; {_count(response.content.decode())}",
            extra={"cpu_seconds": cpu},
        )
        results.append(result)
        print(result.line(), flush=True)
        if seconds > FLOOR / 2:
            for line in explain_slowest(client, url, variant.params):
                print(line)
    return results


def describe_environment() -> None:
    from django.db import connection

    from haopin.core.models import AuditEvent
    from haopin.registry.models import Brand, Enterprise, Product

    if connection.vendor == "sqlite":
        import sqlite3

        engine = f"SQLite {sqlite3.sqlite_version}"
    else:
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            engine = f"PostgreSQL {cursor.fetchone()[0]}"
    print(
        f"{engine}; {Enterprise.objects.count():,} enterprises, {Brand.objects.count():,} brands, "
        f"{Product.objects.count():,} products, {AuditEvent.objects.count():,} audit events; "
        f"median of {REPEAT} after {WARMUP} warm-up requests"
    )
    print(f"at start: {_load()}")


def run() -> list[Result]:
    _setup()
    ensure_seeded()
    _static_files()
    describe_environment()
    results: list[Result] = []
    for username in ONLY_USERS or USERS:
        client = _client(username)
        baseline, cpu = median_wall_and_cpu(
            lambda c=client: c.get("/api/v1/health"), repeat=REPEAT, warmup=WARMUP
        )
        health = Result(f"health [{username}] (baseline)", baseline, note=f"cpu {cpu * 1000:.1f} ms")
        print(health.line())
        results.append(health)
        for page in PAGES:
            if ONLY_PAGES and page.url_name.split(":")[1] not in ONLY_PAGES:
                continue
            results.extend(measure_page(client, username, page, baseline))
    return results


def main(argv: list[str] | None = None) -> int:
    global REPEAT
    parser = argparse.ArgumentParser(prog="python -m bench.bench_lists", description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=REPEAT, help="requests per median (30)")
    parser.add_argument("--pages", nargs="*", default=[], help="only these pages, e.g. brand-list")
    parser.add_argument("--users", nargs="*", default=[], help=f"only these users (of {', '.join(USERS)})")
    args = parser.parse_args(argv)
    REPEAT = args.repeat
    ONLY_PAGES.update(args.pages)
    ONLY_USERS.extend(args.users)

    results = run()
    timed = [r for r in results if r.limit_seconds is not None]
    failed = [r for r in timed if not r.ok]
    print(
        f"\nlists: {len(timed) - len(failed)}/{len(timed)} medians under {FLOOR * 1000:.0f} ms"
        + (f"; slowest {max(r.seconds for r in timed) * 1000:.1f} ms" if timed else "")
        + (
            f"; median of medians {statistics.median(r.seconds for r in timed) * 1000:.1f} ms"
            if timed
            else ""
        )
    )
    if timed:
        cpus = [r.extra["cpu_seconds"] for r in timed]
        print(
            f"cpu per request: median of medians {statistics.median(cpus) * 1000:.1f} ms, "
            f"slowest {max(cpus) * 1000:.1f} ms; at end: {_load()}"
        )
    for problem in problems:
        print(f"problem: {problem}")
    return 0 if not failed and not problems else 1


if __name__ == "__main__":
    sys.exit(main())
