"""``make bench``: run every ``bench/bench_*.py`` in its own process and summarise.

Each module owns its set-up and runs as ``python -m bench.bench_<name>`` with its own data
directory ``var/bench/<name>`` (SQLite file, static files, secret key), ``HAOPIN_DEBUG=0`` and a
fixed ``HAOPIN_SECRET_KEY``, so that a benchmark never touches the demo database under ``var/``
and one module's data never disturbs another's. Output is streamed as it comes; the summary
lists every result line with a floor (``Result.line()`` prints ``[floor …: ok|FAIL]``). The exit
status is non-zero when a floor failed or a module failed.

    python -m bench                       # every module
    python -m bench lists                 # only bench/bench_lists.py
    python -m bench --data-root /tmp/b    # data directories under /tmp/b instead of var/bench
    python -m bench --postgres postgresql://postgres@127.0.0.1:5432/haopin_bench

With ``--postgres`` each module gets its own database, the URL's name plus ``_<module>``
(``haopin_bench_lists``), created when missing, so that modules do not share data there either.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
# Benchmarks sign sessions and nothing else; the key only has to be fixed and long enough.
SECRET_KEY = "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"


@dataclass
class Outcome:
    name: str
    returncode: int = 0
    seconds: float = 0.0
    floors: list[str] = field(default_factory=list)

    @property
    def failed_floors(self) -> list[str]:
        return [line for line in self.floors if ": FAIL]" in line]

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.failed_floors


def discover() -> list[str]:
    return sorted(path.stem.removeprefix("bench_") for path in BENCH.glob("bench_*.py"))


def database_url(base: str, name: str) -> str:
    """``base`` with ``_<name>`` appended to its database name."""
    parts = urlsplit(base)
    database = parts.path.lstrip("/") or "haopin_bench"
    return urlunsplit(parts._replace(path=f"/{database}_{name}"))


def ensure_database(url: str) -> None:
    """Create the PostgreSQL database named in ``url`` if it does not exist."""
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    database = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database]).fetchone()
        if not exists:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))


def run_module(name: str, postgres: str | None, data_root: Path) -> Outcome:
    env = dict(os.environ)
    env.update(
        HAOPIN_DATA_DIR=str(data_root / name),
        HAOPIN_DEBUG="0",
        HAOPIN_SECRET_KEY=SECRET_KEY,
        PYTHONUNBUFFERED="1",
    )
    env.pop("HAOPIN_DATABASE_URL", None)
    if postgres:
        url = database_url(postgres, name)
        ensure_database(url)
        env["HAOPIN_DATABASE_URL"] = url
    outcome = Outcome(name)
    print(f"\n=== bench.bench_{name} ({'PostgreSQL' if postgres else 'SQLite'}) ===", flush=True)
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", f"bench.bench_{name}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        bufsize=1,
    )
    assert process.stdout is not None
    for line in process.stdout:
        print(line, end="", flush=True)
        if "[floor " in line:
            outcome.floors.append(line.rstrip())
    outcome.returncode = process.wait()
    outcome.seconds = time.perf_counter() - started
    return outcome


def main(argv: list[str] | None = None) -> int:
    available = discover()
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("modules", nargs="*", help=f"modules to run (default: all of {', '.join(available)})")
    parser.add_argument("--postgres", metavar="URL", help="run against PostgreSQL (postgresql://…/name)")
    parser.add_argument(
        "--data-root",
        type=Path,
        default=ROOT / "var" / "bench",
        help="directory holding each module's data directory (var/bench)",
    )
    parser.add_argument("--list", action="store_true", help="list the modules and exit")
    args = parser.parse_args(argv)
    if args.list:
        print("\n".join(available))
        return 0
    wanted = [m.removeprefix("bench_").removesuffix(".py") for m in args.modules] or available
    unknown = [m for m in wanted if m not in available]
    if unknown:
        parser.error(f"unknown module(s): {', '.join(unknown)}; available: {', '.join(available)}")

    outcomes = [run_module(name, args.postgres, args.data_root.resolve()) for name in wanted]

    print("\n=== summary ===")
    for outcome in outcomes:
        status = "ok" if outcome.ok else "FAIL"
        exit_note = f", exit status {outcome.returncode}" if outcome.returncode else ""
        print(
            f"{outcome.name:<12} {status:<5} {outcome.seconds:7.1f} s, "
            f"{len(outcome.floors) - len(outcome.failed_floors)}/{len(outcome.floors)} floors met{exit_note}"
        )
        for line in outcome.failed_floors:
            print(f"    {line}")
    return 0 if all(o.ok for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
