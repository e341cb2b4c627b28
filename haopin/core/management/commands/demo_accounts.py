from __future__ import annotations

import unicodedata

from django.core.management.base import BaseCommand

from haopin.core import demo


def width(text: str) -> int:
    """Columns a string takes in a terminal: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def pad(text: str, columns: int) -> str:
    return text + " " * (columns - width(text))


def table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(width(row[i]) for row in [header, *rows]) for i in range(len(header))]
    rule = "+" + "+".join("-" * (w + 2) for w in widths) + "+"
    lines = [rule, "| " + " | ".join(pad(c, w) for c, w in zip(header, widths, strict=True)) + " |", rule]
    lines += ["| " + " | ".join(pad(c, w) for c, w in zip(row, widths, strict=True)) + " |" for row in rows]
    lines.append(rule)
    return "\n".join(lines)


class Command(BaseCommand):
    help = (
        "Print the demo accounts created by seed_demo (username, role, organisation, password) "
        "as a table in Chinese and English."
    )

    def handle(self, *args, **options) -> None:
        from haopin.accounts.models import User

        plan_accounts = demo.build_plan().accounts
        users = {
            u.username: u
            for u in User.objects.filter(username__in=[a.username for a in plan_accounts]).select_related(
                "membership__organisation"
            )
        }
        if not users:
            self.stdout.write(
                "没有演示账户（数据库不是由 seed_demo 生成的）。/ No demo accounts in this database "
                "(it was not created by seed_demo)."
            )
            return
        admin = users.get("admin")
        default = admin is not None and admin.check_password(demo.DEFAULT_PASSWORD)
        password = demo.DEFAULT_PASSWORD if default else "seed_demo --password 所设 / as set"
        rows = []
        experts = [
            a.username for a in plan_accounts if a.username.startswith("expert-") and a.username in users
        ]
        for account in plan_accounts:
            user = users.get(account.username)
            if user is None:
                continue
            username = account.username
            organisation = user.organisation.name if user.organisation else ""
            if username in experts:
                if username != experts[0]:
                    continue  # one row for the whole pool
                username = f"{experts[0]} … {experts[-1]}"
                organisation = "专家库 / expert pool"
            elif account.superuser:
                organisation = "平台 / platform, /admin/"
            rows.append([username, f"{account.role_zh} / {account.role_en}", organisation, password])
        self.stdout.write("演示账户 / Demo accounts")
        self.stdout.write(table(["用户名 Username", "角色 Role", "单位 Organisation", "密码 Password"], rows))
