"""The standards catalogue: codes normalised, levels derived, duplicates refused, office only."""

from __future__ import annotations

import io

import pytest

from haopin.core.errors import PermissionDeniedError, ValidationFailed
from haopin.core.models import AuditEvent
from haopin.standards import policies, services
from haopin.standards.models import Standard


@pytest.mark.parametrize(
    ("code", "level"),
    [
        ("GB/T 19001-2016", "national"),
        ("GB 2760-2014", "national"),
        ("QB/T 1234-2019", "industry"),
        ("DB37/T 4321-2021", "local"),
        ("T/SDAQI 001-2022", "group"),
        ("Q/LXJ 0001S-2021", "enterprise"),
    ],
)
def test_level_follows_the_code(code, level):
    assert services.level_of(code) == level


def test_create_normalises_the_code_and_audits(province):
    standard = services.standard_create(
        actor=province.office,
        code="t/sdaqi 001—2022",
        title="好品山东 评价通则",
        is_haopin=True,
        categories=[province.cat_food],
    )
    assert (standard.code, standard.level, standard.is_haopin) == ("T/SDAQI 001-2022", "group", True)
    assert list(standard.categories.all()) == [province.cat_food]
    assert AuditEvent.objects.get().action == "standards.standard.created"


def test_bad_and_duplicate_codes_are_refused(province):
    services.standard_create(actor=province.office, code="GB/T 19001-2016", title="质量管理体系 要求")
    with pytest.raises(ValidationFailed, match="已在目录中"):
        services.standard_create(actor=province.office, code="GB/T19001-2016", title="重复")
    with pytest.raises(ValidationFailed, match="格式不正确"):
        services.standard_create(actor=province.office, code="ISO9001", title="不是国内标准编号")
    assert Standard.objects.count() == 1


def test_only_the_office_maintains_the_catalogue(province):
    for user in (province.city_jinan, province.dept_agri, province.alice, province.office_viewer):
        with pytest.raises(PermissionDeniedError):
            services.standard_create(actor=user, code="GB 2760-2014", title="食品添加剂使用标准")
    assert not Standard.objects.exists()


def test_everyone_signed_in_sees_the_catalogue_and_the_public_only_current_ones(province):
    current = services.standard_create(actor=province.office, code="GB 2760-2014", title="食品添加剂使用标准")
    old = services.standard_create(
        actor=province.office,
        code="GB 2760-2011",
        title="食品添加剂使用标准",
        status=Standard.Status.SUPERSEDED,
        replaced_by=current,
    )
    assert set(policies.standards_for_user(province.alice)) == {current, old}
    from django.contrib.auth.models import AnonymousUser

    assert list(policies.standards_for_user(AnonymousUser())) == [current]


def test_standard_text_must_be_a_pdf(province):
    standard = services.standard_create(
        actor=province.office, code="GB 2760-2014", title="食品添加剂使用标准"
    )
    with pytest.raises(ValidationFailed, match="文件类型不符"):
        services.standard_attach_file(
            actor=province.office, standard=standard, upload=io.BytesIO(b"\x89PNG\r\n\x1a\n" + b"0" * 100)
        )
    services.standard_attach_file(
        actor=province.office,
        standard=standard,
        upload=io.BytesIO(b"%PDF-1.4\n%\xe2\xe3\n1 0 obj\n<<>>\nendobj\n%%EOF"),
    )
    standard.refresh_from_db()
    assert standard.file.name.endswith(".pdf") and len(standard.file_sha256) == 64
