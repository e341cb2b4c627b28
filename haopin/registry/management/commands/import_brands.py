"""``manage.py import_brands FILE --as USERNAME [--dry-run]``: the bulk import from a shell.

The same two services as the workspace: the file is validated (and kept, with its report, as
an import job that also shows in the workspace); without ``--dry-run`` a file without errors is
then committed. The report goes to standard output; any error makes the exit status non-zero.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from haopin.accounts.models import User
from haopin.core import context
from haopin.core.errors import DomainError
from haopin.registry.imports import import_commit, import_error_summary, import_validate
from haopin.registry.models import ImportJob


class Command(BaseCommand):
    help = "批量导入存量品牌名单（.xlsx）：先校验，无错误时全部写入（--dry-run 只校验）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="导入文件（按平台模板填写的 .xlsx）")
        parser.add_argument("--as", dest="username", required=True, help="以该用户的身份和权限导入")
        parser.add_argument("--dry-run", action="store_true", help="只校验并输出报告，不写入品牌数据")
        parser.add_argument(
            "--max-errors", type=int, default=200, help="最多输出多少条错误（默认 200；0 表示全部）"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"文件不存在：{path}")
        actor = User.objects.filter(username=options["username"], is_active=True).first()
        if actor is None:
            raise CommandError(f"用户不存在或已停用：{options['username']}")
        # Audit events of a command carry its name where a web request's carry the client address.
        with context.bind(client_ip="manage.py import_brands"):
            try:
                with path.open("rb") as handle:
                    job = import_validate(actor=actor, upload=handle, name=path.name)
            except DomainError as exc:
                raise CommandError(exc.message) from exc
            self._report(job, options["max_errors"])
            if job.status != ImportJob.Status.VALID:
                raise CommandError(f"{import_error_summary(job)}未写入任何数据。")
            if options["dry_run"]:
                self.stdout.write(
                    f"试运行：未写入品牌数据。导入记录 {job.uuid} 已保存，可在工作台“批量导入”中确认导入。"
                )
                return
            try:
                job = import_commit(actor=actor, job=job)
            except DomainError as exc:
                raise CommandError(exc.message) from exc
        counts = job.summary
        self.stdout.write(self.style.SUCCESS(f"导入完成（{job.uuid}）。"))
        self._counts(counts)

    def _report(self, job: ImportJob, max_errors: int) -> None:
        write = self.stdout.write
        summary = job.summary
        sheet = summary.get("sheet", "")
        write(f"文件：{job.document.original_name}（工作表“{sheet}”，{job.row_count} 行数据）")
        write(import_error_summary(job))
        self._counts(summary)
        errors = job.errors if max_errors <= 0 else job.errors[:max_errors]
        for error in errors:
            value = f"“{error['value']}”" if error["value"] else ""
            write(f"  第 {error['row']} 行 {error['column']}{value}：{error['message']}")
        hidden = job.error_count - len(errors)
        if hidden > 0:
            write(f"  …… 另有 {hidden} 处错误未列出（--max-errors 0 列出全部，或在工作台下载校验结果）。")
        for warning in summary.get("warnings", []):
            write(f"  提示：第 {warning['row']} 行 {warning['column']}：{warning['message']}")

    def _counts(self, summary: dict[str, Any]) -> None:
        if "enterprises" not in summary:
            return
        e, b, s = summary["enterprises"], summary["brands"], summary["sources"]
        self.stdout.write(
            f"企业：新增 {e['new']}，更新 {e['updated']}，无变化 {e['unchanged']}；"
            f"品牌：新增 {b['new']}，更新 {b['updated']}，无变化 {b['unchanged']}；"
            f"品牌来源：新增 {s['new']}，更新 {s['updated']}，无变化 {s['unchanged']}。"
        )
