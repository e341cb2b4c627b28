"""Delete uploaded files that no Document row refers to.

``services.document_upload`` writes the file before the row; when an enclosing transaction
rolls back (a form that failed after its upload, a crash) the file stays behind. Files younger
than the grace period are kept because their row may still be on its way to a commit.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from haopin.registry.models import Document

# Longer than any request or import that writes a file and then its row.
DEFAULT_MIN_AGE_MINUTES = 60
DOCUMENTS_DIR = "documents"


class Command(BaseCommand):
    help = "删除 MEDIA_ROOT/documents 下没有任何文件记录引用、且超过一小时的文件。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--min-age",
            type=int,
            default=DEFAULT_MIN_AGE_MINUTES,
            metavar="MINUTES",
            help="只删除早于这么多分钟的文件（默认 60）",
        )
        parser.add_argument("--dry-run", action="store_true", help="只列出将要删除的文件，不删除")

    def handle(self, *args: Any, min_age: int, dry_run: bool, **options: Any) -> None:
        if min_age < 0:
            min_age = 0
        media_root = Path(settings.MEDIA_ROOT).resolve()
        root = media_root / DOCUMENTS_DIR
        if not root.is_dir():
            self.stdout.write("没有需要清理的文件（目录不存在）。")
            return
        cutoff = time.time() - min_age * 60
        # Collected before walking the disk: a row committed meanwhile only makes a file look
        # referenced, and a file written meanwhile is younger than the cutoff.
        referenced = set(Document.objects.exclude(file="").values_list("file", flat=True).iterator())
        removed = kept = 0
        freed = 0
        for path in sorted(root.rglob("*")):
            if not path.is_file() or path.is_symlink():
                continue
            name = path.relative_to(media_root).as_posix()
            if name in referenced:
                kept += 1
                continue
            stat = path.stat()
            if stat.st_mtime > cutoff:
                kept += 1
                continue
            if dry_run:
                self.stdout.write(f"将删除 {name}（{stat.st_size} 字节）")
            else:
                path.unlink(missing_ok=True)
            removed += 1
            freed += stat.st_size
        if not dry_run:
            for directory in sorted((d for d in root.rglob("*") if d.is_dir()), reverse=True):
                if not any(directory.iterdir()):
                    directory.rmdir()
        verb = "将删除" if dry_run else "已删除"
        self.stdout.write(f"{verb} {removed} 个无引用的文件（{freed} 字节），保留 {kept} 个。")
