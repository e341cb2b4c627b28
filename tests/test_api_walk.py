"""A whole batch, from the office's first rule set to a verified certificate, through /api/v1 only.

Every person acts through the API with their own bearer token (obtained from
``POST /api/v1/auth/token``), as a machine client of the platform would: the office writes and
publishes a rule set and runs the batch; alice (泉城食品) and bob (崂山茶业, with a new food
brand) apply; the city bureaus recommend; the experts declare and score; an anonymous member of
the public objects to bob's candidacy; the notice closes by itself (``manage.py tick``) once
its working days have passed; and anyone can then verify alice's certificate by its number.

After each step the status is asserted; the refused moves along the way (alice qualifying her
own application, a second ``qualify``, publishing an incomplete rule set, submitting an
incomplete application, publishing with an objection pending) are clear 4xx errors that change
nothing. The only setup outside the API is the expert pool (accounts kept by platform admins).
"""

from __future__ import annotations

import datetime as dt
import io
import json
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.cache import cache
from django.core.management import call_command
from openpyxl import load_workbook

from conftest import PASSWORD
from haopin.accounts.models import ExpertProfile, User
from haopin.core import numbering
from haopin.core.models import AuditEvent
from haopin.evaluation.models import Application, Decision

SHANGHAI = ZoneInfo("Asia/Shanghai")
START = dt.datetime(2025, 5, 13, 10, 0, tzinfo=SHANGHAI)  # a Tuesday inside the application window
AFTER_NOTICE = dt.datetime(2025, 5, 21, 9, 0, tzinfo=SHANGHAI)  # the notice's five working days are over
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
API = "/api/v1"


class Caller:
    """One person (or an anonymous client) talking to the API with a bearer token."""

    def __init__(self, client: Any, token: str | None = None):
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def call(self, method: str, path: str, body: Any = None, *, files: dict | None = None, status: int = 200):
        url = f"{API}{path}"
        if files is not None:
            response = self.client.post(url, data={**(body or {}), **files}, headers=self.headers)
        elif body is not None:
            response = self.client.generic(
                method.upper(), url, json.dumps(body), content_type="application/json", headers=self.headers
            )
        else:
            response = self.client.generic(method.upper(), url, headers=self.headers)
        assert response.status_code == status, (
            f"{method} {path} → {response.status_code} {response.content[:600]!r}"
        )
        if response.get("Content-Type", "").startswith("application/json"):
            return response.json()
        return response

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.call("get", path, **kwargs)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> Any:
        return self.call("post", path, body if body is not None or "files" in kwargs else {}, **kwargs)

    def patch(self, path: str, body: Any, **kwargs: Any) -> Any:
        return self.call("patch", path, body, **kwargs)

    def put(self, path: str, body: Any, **kwargs: Any) -> Any:
        return self.call("put", path, body, **kwargs)


def refused(response: dict, code: str) -> dict:
    """A refusal in the one error shape, with a message a person can act on."""
    assert set(response) == {"code", "message", "details"}, response
    assert response["code"] == code, response
    assert response["message"], response
    return response


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def expert_pool(province) -> list[User]:
    """Three experts on food, two of them new; the pool is kept by platform admins, not the API."""
    experts = [province.expert]
    for index, (employer, region) in enumerate(
        [("山东农业大学", province.qingdao), ("青岛大学", province.qingdao)]
    ):
        user = User.objects.create_user(
            username=f"expert-{index + 2}", password=PASSWORD, full_name=f"专家{index + 2}"
        )
        profile = ExpertProfile.objects.create(user=user, employer=employer, region=region)
        profile.specialities.set([province.cat_food])
        experts.append(user)
    return experts


def login(client, user: User) -> Caller:
    response = client.post(
        f"{API}/auth/token",
        json.dumps({"username": user.username, "password": PASSWORD}),
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    return Caller(client, response.json()["token"])


def state(number: str) -> tuple[str, int, int]:
    """What a refused move must leave untouched: the status, the decisions and the audit trail."""
    application = Application.objects.get(number=number)
    return (
        application.status,
        Decision.objects.filter(application=application).count(),
        AuditEvent.objects.count(),
    )


def test_a_batch_from_opening_to_certificates_through_the_api(province, client, clock):
    cache.clear()  # the objection rate limit and token counters of earlier tests
    office = login(client, province.office)
    alice = login(client, province.alice)
    bob = login(client, province.bob)
    jinan = login(client, province.city_jinan)
    qingdao = login(client, province.city_qingdao)
    experts = [login(client, user) for user in expert_pool(province)]
    public = Caller(client)

    # --- the office writes a rule set and publishes it -------------------------------------------
    rules = office.post(
        "/rule-sets",
        {"category": "201", "brand_type": "product", "title": "食品饮料产品品牌评价细则", "pass_line": 60},
        status=201,
    )
    assert (rules["status"], rules["version"], rules["editable"]) == ("draft", 1, True)
    path = f"/rule-sets/{rules['uuid']}"
    for item in [
        {"code": "1", "name": "质量", "max_score": 60},
        {"code": "1.1", "name": "质量管理", "max_score": 30, "parent": "1", "guidance": "体系认证与运行。"},
        {"code": "1.2", "name": "质量水平", "max_score": 30, "parent": "1"},
        {"code": "2", "name": "创新", "max_score": 40},
    ]:
        office.post(f"{path}/indicators", item, status=201)
    incomplete = refused(office.post(f"{path}/actions/publish", status=422), "ruleset_incomplete")
    assert "一级指标“创新”下没有二级指标。" in incomplete["details"]["problems"]
    assert office.get(path)["status"] == "draft"
    office.post(
        f"{path}/indicators", {"code": "2.1", "name": "研发投入", "max_score": 40, "parent": "2"}, status=201
    )
    office.post(f"{path}/veto-items", {"code": "F1", "text": "申报材料弄虚作假。"}, status=201)
    office.post(
        f"{path}/criteria",
        {
            "code": "Z1",
            "text": "上年度营业收入不低于 2000 万元。",
            "metric": "revenue",
            "operator": "ge",
            "threshold": 2000,
        },
        status=201,
    )
    office.post(f"{path}/criteria", {"code": "Z2", "text": "拥有有效注册商标。"}, status=201)
    rules = office.post(f"{path}/actions/publish")
    assert rules["status"] == "published" and rules["problems"] == []
    assert [d["code"] for d in rules["indicators"]] == ["1", "2"]
    assert [c["code"] for c in rules["indicators"][0]["children"]] == ["1.1", "1.2"]
    refused(office.patch(path, {"pass_line": 50}, status=409), "ruleset_frozen")
    # Alice may read a published rule set (to assess herself) but never write one.
    assert alice.get(path)["pass_line"] == 60
    refused(alice.post(f"{path}/actions/retire", status=403), "permission_denied")

    # --- the office creates and opens the batch -------------------------------------------------------
    batch_body = {
        "year": 2025,
        "sequence": 1,
        "title": "2025年第一批“好品山东”品牌评价",
        "apply_from": "2025-05-01",
        "apply_until": "2025-06-30",
        "notice_days": 5,
        "panel_size": 3,
        "reserve_size": 0,
        "avoid_same_city": False,
    }
    refused(alice.post("/batches", batch_body, status=403), "permission_denied")
    batch = office.post("/batches", batch_body, status=201)
    assert batch["status"] == "draft" and [a["action"] for a in batch["actions"]] == ["open"]
    batch_path = f"/batches/{batch['uuid']}"
    assert alice.get(batch_path, status=404)["code"] == "not_found"  # drafts are the office's
    refused(office.post(f"{batch_path}/actions/open", status=422), "batch_without_rules")
    office.post(f"{batch_path}/rule-sets", {"rule_set": rules["uuid"]}, status=201)
    batch = office.post(f"{batch_path}/actions/open")
    assert batch["status"] == "open"
    assert [r["uuid"] for r in batch["rule_sets"]] == [rules["uuid"]]

    # --- alice applies and fills in her application ----------------------------------------------------
    application = alice.post(
        "/applications", {"batch": batch["uuid"], "brand": str(province.alice_brand.uuid)}, status=201
    )
    number = application["number"]
    assert numbering.is_valid(number) and application["status"] == "draft"
    assert application["rule_set"]["uuid"] == rules["uuid"] and application["route"] == "voluntary"
    app_path = f"/applications/{number}"
    before = state(number)
    gaps = refused(alice.post(f"{app_path}/actions/submit", status=422), "application_incomplete")
    assert {"summary", "products", "figures", "self_assessment", "declaration"} <= set(gaps["details"])
    assert state(number) == before

    alice.patch(
        app_path,
        {
            "summary": "泉城酥锅传承百年工艺，产品质量稳定，市场占有率居全省前列。",
            "products": [str(province.alice_product.uuid)],
            "national_rank": 15,
            "provincial_rank": 2,
            "credit_clean": True,
            "inspection_clean": True,
        },
    )
    figures = [
        {"year": year, "revenue": 5000, "profit": 600, "tax": 250, "rd_spend": 260, "employees": 320}
        for year in (2022, 2023, 2024)
    ]
    alice.put(f"{app_path}/figures", {"figures": figures})
    alice.put(
        f"{app_path}/self-assessment",
        {
            "items": [
                {"indicator": "1.1", "score": 27},
                {"indicator": "1.2", "score": 26.5},
                {"indicator": "2.1", "score": 33},
            ]
        },
    )
    evidence = alice.post(
        f"{app_path}/evidence",
        {"title": "质量管理体系认证证书", "indicator": "1.1"},
        files={"file": io.BytesIO(PDF)},
        status=201,
    )
    assert evidence["indicator"] == "1.1" and evidence["content_type"] == "application/pdf"
    application = alice.post(f"{app_path}/declaration", {"name": "李明"})
    assert application["gaps"] == {} and application["declaration"]["signed_by"] == "李明"
    assert [a["action"] for a in alice.get(f"{app_path}/actions")] == ["submit", "withdraw"]
    application = alice.post(f"{app_path}/actions/submit", {"expected_status": "draft"})
    assert application["status"] == "submitted"

    # --- bob registers a food brand and applies too ---------------------------------------------------
    bob_brand = bob.post(
        "/brands",
        {
            "owner": str(province.bob_ent.uuid),
            "name": "崂山海味",
            "brand_type": "product",
            "category": "20101",
        },
        status=201,
    )
    bob_product = bob.post(
        "/products", {"brand": bob_brand["uuid"], "name": "崂山海米", "specification": "250g"}, status=201
    )
    bob_app = bob.post("/applications", {"batch": batch["uuid"], "brand": bob_brand["uuid"]}, status=201)
    bob_number = bob_app["number"]
    bob_path = f"/applications/{bob_number}"
    assert alice.get(bob_path, status=404)["code"] == "not_found"  # another enterprise's application
    bob.patch(
        bob_path, {"summary": "崂山海味源自崂山渔村，坚持传统晾晒工艺。", "products": [bob_product["uuid"]]}
    )
    bob.put(f"{bob_path}/figures", {"figures": figures})
    bob.put(
        f"{bob_path}/self-assessment",
        {
            "items": [
                {"indicator": "1.1", "score": 22},
                {"indicator": "1.2", "score": 21},
                {"indicator": "2.1", "score": 28},
            ]
        },
    )
    bob.post(f"{bob_path}/declaration", {"name": "王海"})
    assert bob.post(f"{bob_path}/actions/submit")["status"] == "submitted"

    # --- the city bureaus recommend ------------------------------------------------------------------
    assert qingdao.get(app_path, status=404)["code"] == "not_found"  # Jinan's applicant, not Qingdao's
    assert [a["action"] for a in jinan.get(f"{app_path}/actions")] == ["recommend", "return", "reject"]
    refused(jinan.post(f"{app_path}/actions/recommend", status=422), "validation_error")  # no opinion
    application = jinan.post(f"{app_path}/actions/recommend", {"opinion": "材料真实，同意推荐。"})
    assert application["status"] == "recommended"
    assert qingdao.post(f"{bob_path}/actions/recommend", {"opinion": "同意推荐。"})["status"] == "recommended"

    # --- the office's qualification review and opinion and credit check -------------------------------
    before = state(number)
    refused(
        alice.post(f"{app_path}/actions/qualify", {"opinion": "我自己审查通过。"}, status=403),
        "permission_denied",
    )
    assert state(number) == before
    blocked = refused(
        office.post(f"{app_path}/actions/qualify", {"opinion": "符合条件。"}, status=422), "review_blocked"
    )
    assert any("Z2" in problem for problem in blocked["details"]["problems"])
    assert state(number) == before
    for path_, who in ((app_path, number), (bob_path, bob_number)):
        checked = office.put(f"{path_}/criteria/Z2", {"met": True, "note": "核验商标注册证。"})
        assert checked["eligibility"]["verdict"] is True, who
        assert office.post(f"{path_}/actions/qualify", {"opinion": "符合申报条件。"})["status"] == "qualified"
    before = state(number)
    second = refused(
        office.post(f"{app_path}/actions/qualify", {"opinion": "再次通过。"}, status=409),
        "illegal_transition",
    )
    assert "待舆情与信用核查" in second["message"]
    assert state(number) == before
    stale = refused(
        office.post(
            f"{app_path}/actions/check", {"opinion": "无异常。", "expected_status": "recommended"}, status=409
        ),
        "stale_status",
    )
    assert "已被他人处理" in stale["message"]
    assert state(number) == before
    for path_ in (app_path, bob_path):
        assert (
            office.post(f"{path_}/actions/check", {"opinion": "舆情与信用核查无异常。"})["status"]
            == "checked"
        )
    refused(office.post(f"{app_path}/actions/start_review", status=422), "batch_action")

    # --- the expert review -----------------------------------------------------------------------------
    refused(
        office.post(f"{batch_path}/draws", {"rule_set": rules["uuid"]}, status=409), "batch_not_reviewing"
    )
    assert office.post(f"{batch_path}/actions/close_applications")["status"] == "reviewing"
    draw = office.post(f"{batch_path}/draws", {"rule_set": rules["uuid"], "seed": "2025-walk"}, status=201)
    assert draw["applications"] == sorted([number, bob_number]) and draw["seats"] == 6
    assert office.get(f"{batch_path}/draws/{draw['uuid']}")["result_matches"] is True
    assert office.get(app_path)["status"] == "expert_review"
    refused(office.post(f"{batch_path}/draws", {"rule_set": rules["uuid"]}, status=422), "nothing_to_draw")
    refused(office.post(f"{batch_path}/aggregate", {"rule_set": rules["uuid"]}, status=422), "scores_missing")

    shares = {number: (0.9, 0.85, 0.8), bob_number: (0.7, 0.75, 0.72)}
    for index, expert in enumerate(experts):
        assignments = expert.get("/me/assignments")["items"]
        assert sorted(a["application"]["number"] for a in assignments) == sorted([number, bob_number])
        for assignment in assignments:
            n = assignment["application"]["number"]
            assert assignment["status"] == "invited"
            assert expert.get(f"/applications/{n}", status=404)["code"] == "not_found"  # not before declaring
            refused(expert.get(f"/me/assignments/{n}/scores", status=403), "permission_denied")
            assert (
                expert.post(f"/me/assignments/{n}/declaration", {"decision": "accept"})["status"]
                == "accepted"
            )
            assert expert.get(f"/applications/{n}")["summary"]
            share = shares[n][index]
            sheet = expert.put(
                f"/me/assignments/{n}/scores",
                {
                    "scores": [
                        {"indicator": code, "score": round(top * share, 1), "comment": f"{code} 评价意见。"}
                        for code, top in (("1.1", 30), ("1.2", 30), ("2.1", 40))
                    ]
                },
            )
            assert sheet["complete"] is True
            assert (
                expert.post(f"/me/assignments/{n}/scores/submission")["assignment"]["status"] == "submitted"
            )
            refused(
                expert.put(f"/me/assignments/{n}/scores", {"scores": sheet_scores(sheet)}, status=409),
                "scores_submitted",
            )

    result = office.post(f"{batch_path}/aggregate", {"rule_set": rules["uuid"]})
    assert (result["applications"], result["passed"]) == (2, 2)
    ranking = office.get(f"{batch_path}/ranking")[0]["rows"]
    assert [(r["number"], r["rank"], r["status"]) for r in ranking] == [
        (number, 1, "reviewed"),
        (bob_number, 2, "reviewed"),
    ]
    sheet = office.get(f"{app_path}/scoring-sheet")
    assert sheet["total"] == ranking[0]["score_total"] == 85.0
    assert len(sheet["experts"]) == 3 and all(e["submitted"] for e in sheet["experts"])
    refused(alice.get(f"{app_path}/scoring-sheet", status=403), "permission_denied")
    assert alice.get(app_path)["results"] is None  # scores and ranks are for the office
    download = office.get(f"{batch_path}/ranking.xlsx")
    assert download["Content-Type"] == XLSX
    assert load_workbook(io.BytesIO(download.content)).sheetnames

    # --- consultation, approval, the public notice -----------------------------------------------------
    for path_ in (app_path, bob_path):
        assert (
            office.post(f"{path_}/actions/consult", {"opinion": "相关部门无不同意见。"})["status"]
            == "consulted"
        )
        assert office.post(f"{path_}/actions/approve", {"opinion": "审定通过。"})["status"] == "approved"
    batch = office.post(f"{batch_path}/actions/open_notice")
    assert batch["status"] == "notice" and batch["notice"]["status"] == "open"
    assert (batch["notice"]["starts_on"], batch["notice"]["ends_on"]) == ("2025-05-13", "2025-05-19")
    notices = public.get("/notices")["items"]
    assert [n["uuid"] for n in notices] == [batch["notice"]["uuid"]]
    notice_path = f"/notices/{batch['notice']['uuid']}"
    candidates = public.get(notice_path)["candidates"]
    assert [(c["number"], c["status"]) for c in candidates] == sorted(
        [(number, "notice"), (bob_number, "notice")]
    )

    objection_form = {
        "application": bob_number,
        "name": "张三",
        "phone": "13800138000",
        "email": "zhangsan@example.com",
        "content": "该品牌的海米产品去年曾在市场抽检中被发现标签不符，请核查。",
    }
    objection = public.post(
        f"{notice_path}/objections", objection_form, files={"evidence": io.BytesIO(PDF)}, status=201
    )
    assert objection["status"] == "open" and objection["application"] == bob_number
    looked_up = public.get(f"/objections/{objection['number']}")
    assert looked_up == objection and "phone" not in looked_up and "name" not in looked_up
    refused(
        public.post(f"{notice_path}/objections", objection_form, files={}, status=409), "duplicate_objection"
    )
    refused(office.post(f"{batch_path}/actions/publish", status=422), "notice_unresolved")
    assert office.get(batch_path)["status"] == "notice"

    private = office.get("/objections")["items"]
    assert [(o["number"], o["phone"]) for o in private] == [(objection["number"], "13800138000")]
    refused(alice.get("/objections", status=403), "permission_denied")
    answered = office.post(
        f"/objections/{objection['number']}/answer",
        {"outcome": "upheld", "answer": "经核查，该产品抽检标签不合格属实。"},
    )
    assert answered["status"] == "upheld"
    assert office.get(bob_path)["status"] == "rejected"
    assert public.get(f"/objections/{objection['number']}")["status"] == "upheld"

    # --- the notice ends by itself; the office publishes ---------------------------------------------
    refused(
        office.post(f"{batch_path}/actions/publish", status=422), "notice_unresolved"
    )  # period still running
    clock.move_to(AFTER_NOTICE)
    call_command("tick", stdout=io.StringIO())
    assert public.get(notice_path)["status"] == "closed"
    batch = office.post(f"{batch_path}/actions/publish")
    assert batch["status"] == "published"
    assert alice.get(app_path)["status"] == "published"
    assert office.get(bob_path)["status"] == "rejected"

    # --- anyone verifies alice's certificate ----------------------------------------------------------
    lists = public.get("/published-lists")["items"]
    assert [(entry["batch"]["uuid"], entry["brands"]) for entry in lists] == [(batch["uuid"], 1)]
    admitted = public.get(f"/published-lists/{batch['uuid']}")["brands"]
    assert [(b["brand"], b["enterprise"]) for b in admitted] == [("泉城", "泉城食品有限公司")]
    certificate_number = admitted[0]["certificate"]
    certificate = public.get(f"/certificates/{certificate_number}")
    assert certificate["status"] == "valid"
    assert certificate["holder"] == {"name": "泉城食品有限公司", "uscc": province.alice_ent.uscc}
    assert certificate["brand"]["name"] == "泉城" and "泉城酥锅" in certificate["scope"]
    assert (certificate["valid_from"], certificate["valid_until"]) == ("2025-05-21", "2028-05-20")
    assert [h["to_status"] for h in certificate["history"]] == ["valid"]
    typo = certificate_number[:-1] + ("A" if certificate_number[-1] != "A" else "B")
    assert (
        "校验位不符" in refused(public.get(f"/certificates/{typo}", status=422), "invalid_number")["message"]
    )
    unknown = numbering.with_check("HP2025999999")
    refused(public.get(f"/certificates/{unknown}", status=404), "not_found")
    call_command("audit_verify", stdout=io.StringIO())


def sheet_scores(sheet: dict) -> list[dict]:
    return [{"indicator": line["indicator"], "score": 0, "comment": "改分"} for line in sheet["lines"]]
