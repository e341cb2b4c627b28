from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from haopin.core import audit


class Command(BaseCommand):
    help = "Recompute the audit hash chain; name the first event that was altered, inserted or deleted."

    def handle(self, *args, **options) -> None:
        result = audit.verify()
        if not result.ok:
            raise CommandError(f"审计链校验失败：{result.problem}（已核验 {result.checked} 条事件）")
        self.stdout.write(
            f"审计链完整：共 {result.checked} 条事件，链头哈希 {result.head_hash}\n"
            "（请将链头哈希记录在平台之外，例如每日发送给审计部门，以便日后比对。）"
        )
