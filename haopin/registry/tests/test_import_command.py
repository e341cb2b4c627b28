"""``manage.py import_brands FILE --as USERNAME [--dry-run]``."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from haopin.core.models import AuditEvent
from haopin.registry.models import Brand, Enterprise, ImportJob
from haopin.registry.tests.test_import import NEW_USCC, good_row, registry_counts, xlsx


@pytest.fixture
def write_file(tmp_path):
    def write(rows, name="名单.xlsx"):
        path = tmp_path / name
        path.write_bytes(xlsx(rows).getvalue())
        return str(path)

    return write


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("import_brands", *args, stdout=out)
    return out.getvalue()


def test_dry_run_prints_the_report_and_writes_nothing(province, write_file):
    before = registry_counts()
    output = run(write_file([good_row()]), "--as", "city-jinan", "--dry-run")
    assert "校验通过：共 1 行数据" in output
    assert "企业：新增 1，更新 0，无变化 0；品牌：新增 1" in output
    assert "试运行" in output
    assert registry_counts() == before
    assert ImportJob.objects.get().status == ImportJob.Status.VALID


def test_the_command_commits_and_audits_as_the_command(province, write_file):
    output = run(write_file([good_row()]), "--as", "city-jinan")
    assert "导入完成" in output
    enterprise = Enterprise.objects.get(uscc=NEW_USCC)
    assert Brand.objects.filter(owner=enterprise).count() == 1
    event = AuditEvent.objects.get(action="registry.enterprise.created")
    assert event.client_ip == "manage.py import_brands" and event.actor_id == province.city_jinan.pk
    assert ImportJob.objects.get().status == ImportJob.Status.COMMITTED


def test_errors_are_listed_and_exit_non_zero(province, write_file):
    out = io.StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("import_brands", write_file([good_row(region="379999")]), "--as", "office", stdout=out)
    assert "校验未通过：1 处错误" in str(caught.value) and "未写入任何数据" in str(caught.value)
    assert "第 2 行 所在区划代码“379999”" in out.getvalue()
    assert not Enterprise.objects.filter(uscc=NEW_USCC).exists()


@pytest.mark.parametrize(
    ("username", "message"),
    [("nobody", "用户不存在"), ("office-viewer", "无权批量导入"), ("alice", "无权批量导入")],
)
def test_unknown_or_unauthorised_users_are_refused(province, write_file, username, message):
    with pytest.raises(CommandError) as caught:
        run(write_file([good_row()]), "--as", username)
    assert message in str(caught.value)
    assert not ImportJob.objects.exists()


def test_a_missing_or_malformed_file_is_one_message(province, tmp_path):
    with pytest.raises(CommandError) as caught:
        run(str(tmp_path / "missing.xlsx"), "--as", "office")
    assert "文件不存在" in str(caught.value)
    path = tmp_path / "broken.xlsx"
    path.write_bytes(xlsx([good_row()]).getvalue()[:2000])
    with pytest.raises(CommandError) as caught:
        run(str(path), "--as", "office")
    assert "文件已损坏" in str(caught.value)
