"""Property-based contract test of /api/v1, generated from its own OpenAPI schema (schemathesis).

For every operation, schemathesis generates requests that fit the schema (positive) and that
break it (negative: wrong types, missing fields, values out of range, unknown properties),
mixed in one run per operation. Each is sent in-process through the whole middleware stack as
the provincial office, whose scope reaches every code path, half the time with the uuids,
numbers and codes of objects that exist (a batch, applications, a notice with an objection, a
certificate, rule sets with items, a standard). Uploads are sent as multipart/form-data, as a
client would. The properties: no response is a 5xx; every 4xx is JSON in the one error shape
``{"code", "message", "details"}``; every 2xx with a body is JSON, or the file type the
operation declares (the ``.xlsx`` downloads).

Runs are deterministic (``derandomize``, no example database) and bounded in size, so the test
takes well under a minute and fails the same way on every machine.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal
from types import SimpleNamespace
from typing import Any
from urllib.parse import quote, urlencode

import pytest
import schemathesis
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.core import NOT_SET
from schemathesis.generation import GenerationMode

from haopin.accounts import services as account_services
from haopin.certificates.models import Certificate, CertificateEvent
from haopin.config.api import api
from haopin.core import numbering
from haopin.core.models import Category
from haopin.evaluation.models import (
    Application,
    Batch,
    BatchRuleSet,
    Decision,
    Objection,
    PublicNotice,
    Quota,
)
from haopin.standards.models import Criterion, Indicator, RuleSet, Standard, VetoItem

OPENAPI = api.get_openapi_schema(path_params={})
SCHEMA = schemathesis.openapi.from_dict(OPENAPI)
OPERATIONS = sorted(
    f"{result.ok().method.upper()} {result.ok().path}" for result in SCHEMA.get_all_operations()
)
# One run per operation, positive and negative cases mixed: a test's set-up (the province) costs
# as much as a dozen requests, and there are close to a hundred operations.
MAX_EXAMPLES = 12


def negatable(label: str) -> bool:
    # Operations without any input have nothing to break: negative generation is empty for them.
    operation = SCHEMA.find_operation_by_label(label)
    return bool(operation.body or list(operation.iter_parameters()))


def test_every_operation_is_covered():
    assert len(OPERATIONS) >= 90
    assert "GET /api/v1/health" in OPERATIONS
    assert "PUT /api/v1/brands/{uuid}/sources/{programme}" in OPERATIONS
    assert "POST /api/v1/applications/{number}/actions/{action}" in OPERATIONS
    assert "POST /api/v1/notices/{uuid}/objections" in OPERATIONS
    assert "GET /api/v1/certificates/{number}" in OPERATIONS


def test_the_schema_has_no_duplicate_keys(client):
    # JSON parsers that read YAML (Swagger UI's js-yaml) refuse a mapping with a key twice, and
    # the docs page then shows nothing: ``{200: …}`` and ``{"200": …}`` both end up as "200".
    def unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [k for k, _ in pairs]
        assert len(keys) == len(set(keys)), sorted(k for k in keys if keys.count(k) > 1)
        return dict(pairs)

    json.loads(client.get("/api/v1/openapi.json").content, object_pairs_hook=unique)


def evaluation_objects(province: Any) -> SimpleNamespace:
    """A standard, a published rule set and its next draft (with items), an open batch with a
    quota and alice's draft application, a batch on notice with bob's candidacy and an
    objection, and a published batch with alice's certificate; written directly, as fixtures."""
    o = SimpleNamespace()
    food = Category.objects.get(code="201")
    o.standard = Standard.objects.create(code="GB/T 19001-2016", title="质量管理体系 要求", level="national")
    o.published = RuleSet.objects.create(
        category=food,
        brand_type=province.product_type,
        title="食品饮料评价细则",
        status=RuleSet.Status.PUBLISHED,
    )
    o.draft = RuleSet.objects.create(
        category=food,
        brand_type=province.product_type,
        title="食品饮料评价细则",
        version=2,
        based_on=o.published,
    )
    for rule_set in (o.published, o.draft):
        dimension = Indicator.objects.create(rule_set=rule_set, code="1", name="质量", max_score=Decimal(100))
        Indicator.objects.create(
            rule_set=rule_set, parent=dimension, code="1.1", name="质量水平", max_score=100
        )
        VetoItem.objects.create(rule_set=rule_set, code="F1", text="弄虚作假。")
        Criterion.objects.create(rule_set=rule_set, code="Z1", text="拥有注册商标。")
    today = timezone.localdate()

    def batch(sequence: int, status: str) -> Batch:
        created = Batch.objects.create(
            year=today.year,
            sequence=sequence,
            title=f"第{sequence}批",
            status=status,
            apply_from=today - dt.timedelta(days=10),
            apply_until=today + dt.timedelta(days=30),
        )
        BatchRuleSet.objects.create(batch=created, rule_set=o.published)
        return created

    def application(the_batch: Batch, who: str, status: str) -> Application:
        with transaction.atomic():
            number = numbering.next_number("SQ", the_batch.year)
        brand = getattr(province, f"{who}_brand")
        return Application.objects.create(
            number=number,
            batch=the_batch,
            enterprise=brand.owner,
            brand=brand,
            rule_set=o.published,
            status=status,
            created_by=getattr(province, who),
        )

    o.batch = batch(1, Batch.Status.OPEN)
    Quota.objects.create(batch=o.batch, category=food, limit=5)
    o.application = application(o.batch, "alice", Application.Status.DRAFT)
    o.notice_batch = batch(2, Batch.Status.NOTICE)
    candidate = application(o.notice_batch, "bob", Application.Status.NOTICE)
    Decision.objects.create(
        application=candidate,
        action="open_notice",
        from_status="approved",
        to_status="notice",
        actor=province.office,
    )
    o.notice = PublicNotice.objects.create(
        batch=o.notice_batch,
        title="公示",
        body="公示",
        starts_on=today,
        ends_on=today + dt.timedelta(days=10),
    )
    with transaction.atomic():
        objection_number = numbering.next_number("YY", today.year)
    o.objection = Objection.objects.create(
        number=objection_number,
        notice=o.notice,
        application=candidate,
        name="张三",
        phone="13800138000",
        content="该品牌产品抽检不合格，请核查。",
    )
    o.published_batch = batch(3, Batch.Status.PUBLISHED)
    admitted = application(o.published_batch, "alice", Application.Status.PUBLISHED)
    with transaction.atomic():
        certificate_number = numbering.next_number("HP", today.year)
    o.certificate = Certificate.objects.create(
        number=certificate_number,
        application=admitted,
        batch=o.published_batch,
        brand=admitted.brand,
        enterprise=admitted.enterprise,
        scope="品牌：泉城",
        issued_on=today,
        valid_from=today,
        valid_until=today + dt.timedelta(days=1000),
    )
    CertificateEvent.objects.create(certificate=o.certificate, to_status="valid", reason="颁发")
    return o


def existing_objects(province: Any, path: str) -> dict[str, str] | None:
    """Path parameters naming objects that exist, so that generated requests get past the 404."""
    if path.startswith("/api/v1/enterprises/"):
        return {"uuid": str(province.alice_ent.uuid)}
    if path.startswith("/api/v1/brands/{uuid}/sources/"):
        return {"uuid": str(province.bob_brand.uuid), "programme": "agi"}
    if path.startswith("/api/v1/brands/"):
        return {"uuid": str(province.alice_brand.uuid)}
    if path.startswith("/api/v1/products/"):
        return {"uuid": str(province.alice_product.uuid)}
    prefixes = (
        "/api/v1/standards/",
        "/api/v1/rule-sets/",
        "/api/v1/batches/",
        "/api/v1/applications/",
        "/api/v1/me/assignments/",
        "/api/v1/notices/",
        "/api/v1/objections/",
        "/api/v1/certificates/",
        "/api/v1/published-lists/",
    )
    if not path.startswith(prefixes):
        return None
    o = evaluation_objects(province)
    number = o.application.number
    item_codes = {"indicators": "1.1", "veto-items": "F1", "criteria": "Z1"}
    values = {
        "/api/v1/standards/": {"code": o.standard.code},
        "/api/v1/rule-sets/": {"uuid": str(o.draft.uuid)},
        "/api/v1/batches/": {"uuid": str(o.batch.uuid), "rule_set": str(o.published.uuid), "code": "201"},
        "/api/v1/applications/": {"number": number, "code": "F1" if "veto" in path else "Z1"},
        "/api/v1/me/assignments/": {"number": number},
        "/api/v1/notices/": {"uuid": str(o.notice.uuid)},
        "/api/v1/objections/": {"number": o.objection.number},
        "/api/v1/certificates/": {"number": o.certificate.number},
        "/api/v1/published-lists/": {"uuid": str(o.published_batch.uuid)},
    }
    prefix = next(p for p in prefixes if path.startswith(p))
    found = dict(values[prefix])
    for segment, code in item_codes.items():
        if f"/rule-sets/{{uuid}}/{segment}/" in path:
            found["code"] = code
    if "/quotas/" in path:
        found["kind"] = "category"
    wanted = set(re.findall(r"{(\w+)}", path))
    return {key: value for key, value in found.items() if key in wanted}


def form_value(value: Any) -> Any:
    """A generated multipart field as a client would send it: files as files, text as text."""
    if isinstance(value, bytes):
        return SimpleUploadedFile("upload.bin", value)
    if isinstance(value, str):
        return value
    return json.dumps(value)


def to_request(case: Any) -> dict[str, Any]:
    """The Django test client's arguments for a generated case."""
    params = {name: quote(str(value), safe="") for name, value in (case.path_parameters or {}).items()}
    path = case.path.format(**params)
    query = {k: v for k, v in (case.query or {}).items() if v is not None}
    if query:
        path = f"{path}?{urlencode(query, doseq=True)}"
    request: dict[str, Any] = {"method": case.method.upper(), "path": path}
    if case.body is not NOT_SET:
        multipart = (case.media_type or "").startswith("multipart/")
        if multipart and isinstance(case.body, dict):
            # The test client encodes a dict as multipart/form-data with a boundary.
            request["data"] = {k: form_value(v) for k, v in case.body.items() if v is not None}
            return request
        # Negative generation may send raw bytes (a body that is not JSON at all) as they are.
        raw = isinstance(case.body, bytes)
        request["data"] = case.body if raw else json.dumps(case.body)
        request["content_type"] = case.media_type or "application/json"
    return request


def declared_types(operation: Any) -> set[str]:
    """The content types an operation declares for its 200 (JSON, or a file such as .xlsx)."""
    responses = OPENAPI["paths"][operation.path][operation.method.lower()]["responses"]
    return set(responses.get("200", {}).get("content", {})) or {"application/json"}


def check_response(response: Any, request: dict[str, Any], files: set[str] = frozenset()) -> None:
    body = repr(request.get("data", ""))[:300]
    where = f"{request['method']} {request['path']} {request.get('content_type')} {body}"
    assert response.status_code < 500, f"{where} → {response.status_code} {response.content[:500]!r}"
    if response.status_code == 204:
        return
    content_type = response.get("Content-Type", "")
    if response.status_code == 200 and any(content_type.startswith(t) for t in files):
        assert response.content, f"{where} → empty {content_type}"
        return
    assert content_type.startswith("application/json"), f"{where} → {content_type}"
    body = json.loads(response.content)
    if response.status_code >= 400:
        assert isinstance(body, dict) and set(body) == {"code", "message", "details"}, f"{where} → {body}"
        assert isinstance(body["code"], str) and body["code"]
        assert isinstance(body["message"], str) and body["message"]
        assert isinstance(body["details"], dict)


@pytest.mark.parametrize("label", OPERATIONS)
def test_contract(province, client, label):
    cache.clear()  # the token endpoint's failure counters, the objection rate limit
    _, raw = account_services.token_create(actor=province.office, name="contract")
    authorization = f"Bearer {raw}"
    operation = SCHEMA.find_operation_by_label(label)
    assert operation is not None
    modes = [GenerationMode.POSITIVE] + ([GenerationMode.NEGATIVE] if negatable(label) else [])
    strategies = [operation.as_strategy(generation_mode=mode) for mode in modes]
    existing = existing_objects(province, operation.path)
    if existing is not None:
        strategies += [
            operation.as_strategy(generation_mode=mode, path_parameters=existing) for mode in modes
        ]
    strategy = st.one_of(*strategies)
    files = declared_types(operation) - {"application/json"}

    @settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case: Any) -> None:
        request = to_request(case)
        method = request.pop("method")
        response = client.generic(
            method,
            request["path"],
            **{k: v for k, v in request.items() if k != "path"},
            headers={"Authorization": authorization},
        )
        check_response(response, {"method": method, **request}, files)

    run()
