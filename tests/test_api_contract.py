"""Property-based contract test of /api/v1, generated from its own OpenAPI schema (schemathesis).

For every operation, schemathesis generates requests that fit the schema (positive) and that
break it (negative: wrong types, missing fields, values out of range, unknown properties). Each
is sent in-process through the whole middleware stack as the provincial office, whose scope
reaches every code path, half the time with the uuid of an object that exists. The properties:
no response is a 5xx; every 4xx is JSON in the one error shape ``{"code", "message",
"details"}``; every 2xx with a body is JSON.

Runs are deterministic (``derandomize``, no example database) and bounded in size, so the test
takes seconds and fails the same way on every machine.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote, urlencode

import pytest
import schemathesis
from django.core.cache import cache
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.core import NOT_SET
from schemathesis.generation import GenerationMode

from haopin.accounts import services as account_services
from haopin.config.api import api

SCHEMA = schemathesis.openapi.from_dict(api.get_openapi_schema(path_params={}))
OPERATIONS = sorted(
    f"{result.ok().method.upper()} {result.ok().path}" for result in SCHEMA.get_all_operations()
)
# Operations without any input have nothing to break: negative generation is empty for them.
CASES = [
    (label, mode)
    for label in OPERATIONS
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    if mode == GenerationMode.POSITIVE
    or (lambda op: op.body or list(op.iter_parameters()))(SCHEMA.find_operation_by_label(label))
]
MAX_EXAMPLES = 30


def test_every_operation_is_covered():
    assert len(OPERATIONS) >= 16
    assert "GET /api/v1/health" in OPERATIONS
    assert "PUT /api/v1/brands/{uuid}/sources/{programme}" in OPERATIONS


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
    return None


def to_request(case: Any) -> dict[str, Any]:
    """The Django test client's arguments for a generated case."""
    params = {name: quote(str(value), safe="") for name, value in (case.path_parameters or {}).items()}
    path = case.path.format(**params)
    query = {k: v for k, v in (case.query or {}).items() if v is not None}
    if query:
        path = f"{path}?{urlencode(query, doseq=True)}"
    request: dict[str, Any] = {"method": case.method.upper(), "path": path}
    if case.body is not NOT_SET:
        # Negative generation may send raw bytes (a body that is not JSON at all) as they are.
        raw = isinstance(case.body, bytes)
        request["data"] = case.body if raw else json.dumps(case.body)
        request["content_type"] = case.media_type or "application/json"
    return request


def check_response(response: Any, request: dict[str, Any]) -> None:
    body = repr(request.get("data", ""))[:300]
    where = f"{request['method']} {request['path']} {request.get('content_type')} {body}"
    assert response.status_code < 500, f"{where} → {response.status_code} {response.content[:500]!r}"
    if response.status_code == 204:
        return
    content_type = response.get("Content-Type", "")
    assert content_type.startswith("application/json"), f"{where} → {content_type}"
    body = json.loads(response.content)
    if response.status_code >= 400:
        assert isinstance(body, dict) and set(body) == {"code", "message", "details"}, f"{where} → {body}"
        assert isinstance(body["code"], str) and body["code"]
        assert isinstance(body["message"], str) and body["message"]
        assert isinstance(body["details"], dict)


@pytest.mark.parametrize(("label", "mode"), CASES, ids=[f"{label} {mode}" for label, mode in CASES])
def test_contract(province, client, label, mode):
    cache.clear()  # the token endpoint's failure counters
    _, raw = account_services.token_create(actor=province.office, name="contract")
    authorization = f"Bearer {raw}"
    operation = SCHEMA.find_operation_by_label(label)
    assert operation is not None
    strategy = operation.as_strategy(generation_mode=mode)
    existing = existing_objects(province, operation.path)
    if existing is not None:
        strategy = st.one_of(strategy, operation.as_strategy(generation_mode=mode, path_parameters=existing))

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
        check_response(response, {"method": method, **request})

    run()
