from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError, CommandParser

from haopin.search import index, kinds


class Command(BaseCommand):
    help = (
        "重建搜索索引 / Rebuild the search index from the tables: every kind, or those named with "
        "--kind. One transaction: searches see the old index until the new one is complete."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--kind",
            action="append",
            choices=sorted(kinds.KINDS),
            help="only this kind (repeatable); default: all of them",
        )

    def handle(self, *args, **options) -> None:
        started = time.perf_counter()
        try:
            counts = index.rebuild(options["kind"])
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        for label, count in counts.items():
            self.stdout.write(f"{label:<24} {count:>9,}")
        self.stdout.write(f"搜索索引已重建 / search index rebuilt in {time.perf_counter() - started:.1f} s")
