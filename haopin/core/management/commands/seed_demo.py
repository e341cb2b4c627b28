from __future__ import annotations

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from haopin.core import demo
from haopin.evaluation import demo as evaluation_demo

HELP = """Build the demo province (演示省份) deterministically: the provincial office, five
departments, all 16 city bureaus and some county bureaus, several hundred enterprises with
valid credit codes in every city, brands of every type and tier with source programmes,
products with standards and GTINs, and 20 experts.

Demo accounts, all with the password given by --password (default demo12345):
  admin                      platform admin (superuser, also /admin/)
  office, office-viewer      provincial office (质量强省办): manager, read-only
  dept-agri                  agriculture department (农业农村厅)
  dept-industry, dept-commerce, dept-culture, dept-housing
                             the other provincial departments
  city-jinan, city-qingdao   city market regulation bureau staff
  county-lixia               Lixia district bureau staff
  expert-01 ... expert-20    members of the expert pool
  ent-01 ... ent-10          managers of ten enterprises with brands and products
`manage.py demo_accounts` prints them as a table.

The password must pass the platform's password rules (at least 8 characters, not only
digits, not a common password): enterprise accounts are created through self-registration,
which enforces them.

--scale large adds 30,000 enterprises with 100,000 brands and 100,000 products, written
with bulk_create in batches, each row with its audit event (about 290,000 events). For
benchmarks: 1.5 to 4 minutes on a 2-CPU machine, see docs/BENCHMARKS.md.
"""


class Command(BaseCommand):
    help = HELP

    def create_parser(self, prog_name: str, subcommand: str, **kwargs):  # type: ignore[no-untyped-def]
        from argparse import RawDescriptionHelpFormatter

        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.formatter_class = RawDescriptionHelpFormatter
        return parser

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--password", default=demo.DEFAULT_PASSWORD, help="password of every demo account (demo12345)"
        )
        parser.add_argument("--scale", choices=demo.SCALES, default="normal", help="size of the data set")
        parser.add_argument("--seed", type=int, default=demo.DEFAULT_SEED, help="random seed (2021)")
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="do nothing (and succeed) when the database already holds any organisation",
        )

    def handle(self, *args, **options) -> None:
        from haopin.accounts.models import Organisation
        from haopin.core.errors import DomainError

        not_empty = Organisation.objects.exists()
        if not_empty and options["if_empty"]:
            self.stdout.write("数据库中已有数据，跳过演示数据。/ Database not empty: demo data skipped.")
            return
        try:
            validate_password(options["password"])
        except ValidationError as exc:
            raise CommandError("密码不符合要求 / password rejected: " + " ".join(exc.messages)) from exc
        if not_empty:
            raise CommandError(
                "数据库中已有单位数据，演示数据只能写入空数据库（或加 --if-empty 跳过）。\n"
                "The database already holds organisations; seed_demo writes only to an empty database "
                "(use --if-empty to skip)."
            )

        self.stdout.write(f"生成演示数据（规模 {options['scale']}，种子 {options['seed']}）…")
        plan = demo.build_plan(seed=options["seed"], scale=options["scale"])
        try:
            report = demo.seed(plan, password=options["password"], progress=self._progress)
            evaluation = evaluation_demo.seed(seed=options["seed"], progress=self._progress)
        except DomainError as exc:
            raise CommandError(
                f"演示数据生成失败 / seeding failed: {exc.message} {exc.details or ''}"
            ) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"演示数据已生成 / demo province created in {report.seconds:.1f} s: "
                f"{report.organisations:,} 个单位 organisations, {report.users:,} 个账户 accounts, "
                f"{report.enterprises:,} 家企业 enterprises, {report.brands:,} 个品牌 brands, "
                f"{report.products:,} 个产品 products, {report.experts} 位专家 experts, "
                f"{report.audit_events:,} 条审计事件 audit events."
            )
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"评价演示数据已生成 / evaluation demo created in {evaluation.seconds:.1f} s: "
                f"{evaluation.rule_sets} 套评价细则 rule sets, {evaluation.batches} 个批次 batches, "
                f"{evaluation.applications} 项申报 applications, "
                f"{evaluation.certificates} 张证书 certificates, "
                f"{evaluation.audit_events:,} 条审计事件 audit events."
            )
        )
        self.stdout.write(f"数据摘要 / digest: {plan.digest()}")

    def _progress(self, message: str) -> None:
        self.stdout.write(f"  {message}")
