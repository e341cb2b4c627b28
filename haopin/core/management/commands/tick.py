from __future__ import annotations

from django.core.management.base import BaseCommand
from django.db import connection
from django.utils import timezone

from haopin.certificates import services as certificates
from haopin.core import context
from haopin.evaluation import notices


class Command(BaseCommand):
    help = (
        "Periodic housekeeping: close public notices whose last day has passed, expire "
        "certificates past their validity, remind holders 90 and 30 days before expiry, and "
        "remind applicants 3 days before their correction deadline. Run it every 10 minutes "
        "(cron: '*/10 * * * * manage.py tick', or a systemd timer with OnCalendar=*:0/10). "
        "Idempotent, and safe to run concurrently: every change is a compare-and-set "
        "or made under a row lock."
    )

    def handle(self, *args, **options) -> None:
        today = timezone.localdate()
        # Audit events written by the tick carry the command's name as their client.
        with context.bind(client_ip="manage.py tick"):
            closed = notices.notices_close_ended(today=today)
            expired = certificates.certificates_expire(today=today)
            reminded = certificates.certificates_remind(today=today)
            deadlines = notices.return_deadline_reminders_send(today=today)
        lines = [f"tick {today.isoformat()}:"]
        lines.append(f"  公示结束 {len(closed)} 项" + _names(n.title for n in closed))
        lines.append(f"  证书到期 {len(expired)} 张" + _names(c.number for c in expired))
        lines.append(
            f"  到期提醒 {len(reminded)} 张" + _names(f"{c.number}（{stage}天）" for c, stage in reminded)
        )
        lines.append(f"  整改期限提醒 {len(deadlines)} 件" + _names(a.number for a in deadlines))
        if connection.vendor == "sqlite":
            # SQLite's own upkeep of planner statistics for tables whose size changed a lot
            # (PostgreSQL's autovacuum does the same on its own).
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA optimize")
        self.stdout.write("\n".join(lines))


def _names(items) -> str:
    items = list(items)
    if not items:
        return ""
    shown = "、".join(items[:20])
    more = f" 等 {len(items)} 项" if len(items) > 20 else ""
    return f"：{shown}{more}"
