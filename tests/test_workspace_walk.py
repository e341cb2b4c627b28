"""A whole batch, from the office's first rule set to a verified certificate, through the workspace.

The counterpart of ``test_api_walk.py``: every person uses the HTML pages the way a browser
would. Each step opens a page, finds the form the page really renders for the move (by its
``action``), fills in only the fields that form has (an unknown field name fails the test) and
posts it; then the redirect, the new status in the database and the same status on the next
page are asserted. The office writes and publishes a rule set and runs the batch; alice (泉城食品)
and bob (崂山茶业, with a food brand he registers in the workspace) apply; the city bureaus
recommend; the experts declare and score on their score sheets; an anonymous visitor objects to
bob's candidacy on the public notice page and the office dismisses it; the notice closes by
itself (``manage.py tick``); the office publishes and anyone verifies the certificates.

Refused moves along the way (publishing an incomplete rule set, opening a batch without rules,
submitting an incomplete application, recommending without an opinion, alice qualifying her own
application, qualifying before the manual criteria are checked, a second identical ``qualify``,
changing a submitted score sheet, publishing while the notice runs) show a clear message and
change nothing. The only setup outside the workspace is the expert pool (kept by platform
admins).
"""

from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import dataclass, field
from decimal import Decimal
from html import unescape
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from conftest import PASSWORD
from haopin.accounts.models import ExpertProfile, User
from haopin.certificates.models import Certificate
from haopin.core.models import AuditEvent, BrandType
from haopin.evaluation.models import Application, Assignment, Batch, Decision, Objection, PublicNotice
from haopin.registry.models import Brand, Product
from haopin.standards.models import RuleSet

SHANGHAI = ZoneInfo("Asia/Shanghai")
START = dt.datetime(2025, 5, 13, 10, 0, tzinfo=SHANGHAI)  # a Tuesday inside the application window
AFTER_NOTICE = dt.datetime(2025, 5, 21, 9, 0, tzinfo=SHANGHAI)  # the notice's five working days are over
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
S = Application.Status
LEAVES = (("1.1", 30), ("1.2", 30), ("2.1", 40))


# --- reading the pages: forms as a browser sees them -------------------------------------------------


@dataclass
class HtmlForm:
    """One ``<form>`` of a page: its action and every control it renders, with their values."""

    action: str
    method: str
    enctype: str
    values: dict[str, str] = field(default_factory=dict)  # text, hidden, number, date, textarea
    files: set[str] = field(default_factory=set)
    selects: dict[str, list[tuple[str, str, bool]]] = field(default_factory=dict)  # value, label, selected
    checks: dict[str, list[tuple[str, bool, str]]] = field(default_factory=dict)  # value, checked, type
    buttons: list[tuple[str, str, str]] = field(default_factory=list)  # name, value, text

    @property
    def names(self) -> set[str]:
        return set(self.values) | self.files | set(self.selects) | set(self.checks)

    def option(self, name: str, label: str) -> str:
        """The value of the one option of select ``name`` whose label contains ``label``."""
        assert name in self.selects, f"no select {name!r} in the form: {sorted(self.names)}"
        found = [value for value, text, _ in self.selects[name] if label in text]
        assert len(found) == 1, f"{name}: options matching {label!r}: {found} of {self.selects[name]}"
        return found[0]

    def data(self, fields: dict[str, Any]) -> dict[str, Any]:
        """What the browser posts: the rendered defaults, then ``fields`` (None unchecks)."""
        unknown = set(fields) - self.names
        assert not unknown, f"the form has no field {sorted(unknown)}; it has {sorted(self.names)}"
        data: dict[str, Any] = dict(self.values)
        for name, options in self.selects.items():
            chosen = [value for value, _, selected in options if selected]
            data[name] = chosen[0] if chosen else (options[0][0] if options else "")
        for name, boxes in self.checks.items():
            checked = [value for value, on, _ in boxes if on]
            if checked:
                data[name] = checked if boxes[0][2] == "checkbox" and len(boxes) > 1 else checked[0]
        for name, value in fields.items():
            if value is None:
                data.pop(name, None)
                continue
            if name in self.checks:
                offered = {v for v, _, _ in self.checks[name]}
                given = value if isinstance(value, list) else [value]
                assert {str(v) for v in given} <= offered, f"{name}: {given} not among {offered}"
            elif name in self.selects:
                assert str(value) in {v for v, _, _ in self.selects[name]}, f"{name}: no option {value!r}"
            elif name in self.files:
                assert "multipart/form-data" in self.enctype, f"{self.action} cannot upload files"
            data[name] = value
        return data


class FormParser(HTMLParser):
    def __init__(self, url: str):
        super().__init__(convert_charrefs=True)
        self.url = url
        self.forms: list[HtmlForm] = []
        self.form: HtmlForm | None = None
        self.select: str | None = None
        self.option: list[Any] | None = None
        self.textarea: str | None = None
        self.button: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form":
            action = a.get("action") or self.url
            self.form = HtmlForm(action, (a.get("method") or "get").lower(), a.get("enctype") or "")
            self.forms.append(self.form)
            return
        form = self.form
        if form is None:
            return
        name = a.get("name") or ""
        if tag == "input":
            kind = (a.get("type") or "text").lower()
            if kind in {"checkbox", "radio"} and name:
                form.checks.setdefault(name, []).append((a.get("value") or "on", "checked" in a, kind))
            elif kind == "submit":
                form.buttons.append((name, a.get("value") or "", a.get("value") or ""))
            elif kind == "file" and name:
                form.files.add(name)
            elif name:
                form.values[name] = a.get("value") or ""
        elif tag == "select" and name:
            self.select = name
            form.selects[name] = []
        elif tag == "option" and self.select is not None:
            self.option = [a.get("value"), "", "selected" in a]
        elif tag == "textarea" and name:
            self.textarea = name
            form.values[name] = ""
        elif tag == "button" and (a.get("type") or "submit") == "submit":
            self.button = [name, a.get("value") or "", ""]

    def handle_data(self, data: str) -> None:
        if self.option is not None:
            self.option[1] += data
        elif self.textarea is not None and self.form is not None:
            self.form.values[self.textarea] += data
        elif self.button is not None:
            self.button[2] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.form = None
        elif tag == "option" and self.option is not None and self.form is not None and self.select:
            value, label, selected = self.option
            label = label.strip()
            self.form.selects[self.select].append((label if value is None else value, label, selected))
            self.option = None
        elif tag == "select":
            self.select = None
        elif tag == "textarea" and self.textarea is not None and self.form is not None:
            # As in a browser: the newline right after <textarea> is not part of the value.
            value = self.form.values[self.textarea]
            self.form.values[self.textarea] = value[1:] if value.startswith("\n") else value
            self.textarea = None
        elif tag == "button" and self.button is not None and self.form is not None:
            name, value, text = self.button
            self.form.buttons.append((name, value, " ".join(text.split())))
            self.button = None


class Page:
    """A page as shown: its address, its markup, its visible text and its forms."""

    def __init__(self, url: str, response: Any):
        self.url = url
        self.response = response
        self.html = response.content.decode()
        parser = FormParser(url)
        parser.feed(self.html)
        self.forms = parser.forms

    @property
    def text(self) -> str:
        body = re.sub(r"<(script|style)\b.*?</\1>", " ", self.html, flags=re.S)
        return " ".join(unescape(re.sub(r"<[^>]+>", " ", body)).split())

    def has_form(self, action: str) -> bool:
        return any(f.action == action for f in self.forms)

    def form(self, action: str, button: str | None = None) -> HtmlForm:
        """The form posting to ``action`` (and with a button labelled ``button``): the page
        must offer it."""
        found = [
            f
            for f in self.forms
            if f.action == action and (button is None or any(button in text for _, _, text in f.buttons))
        ]
        assert len(found) == 1, (
            f"{self.url}: {len(found)} forms post to {action} (button {button!r}); "
            f"forms: {[(f.action, [b[2] for b in f.buttons]) for f in self.forms]}"
        )
        return found[0]

    def links(self, href: str) -> bool:
        return f'href="{href}"' in self.html

    def messages(self, level: str) -> list[str]:
        """The flash messages of ``level`` (success, error, …) the page shows."""
        found = re.findall(rf'<p class="msg {level}" role="status">(.*?)</p>', self.html, flags=re.S)
        return [" ".join(unescape(re.sub(r"<[^>]+>", " ", m)).split()) for m in found]

    def badge(self, element_id: str) -> str:
        match = re.search(rf'id="{element_id}"[^>]*>([^<]*)<', self.html)
        assert match, f"{self.url}: no #{element_id}"
        return match.group(1).strip()


class Person:
    """Someone with a browser: signed in as ``user``, or anonymous."""

    def __init__(self, user: User | None = None):
        self.user = user
        self.client = Client()
        self.sign_in()

    def sign_in(self) -> None:
        if self.user is not None:
            self.client.force_login(self.user)

    def open(self, url: str, status: int = 200) -> Page:
        url = url.split("#", 1)[0]
        response = self.client.get(url)
        assert response.status_code == status, f"GET {url} → {response.status_code} {self._said(response)}"
        return Page(url, response)

    def get(self, url: str) -> Any:
        return self.client.get(url)

    def submit(
        self, page: Page, action: str, *, button: str | None = None, status: int = 302, **fields: Any
    ) -> Any:
        """Post the form of ``page`` that posts to ``action``, as filled in by ``fields``."""
        form = page.form(action, button)
        assert form.method == "post", f"{action} is not a POST form"
        data = form.data(fields)
        if button is not None:
            name, value, _ = next(b for b in form.buttons if button in b[2])
            if name:
                data[name] = value
        response = self.client.post(form.action, data)
        assert response.status_code == status, (
            f"POST {form.action} → {response.status_code} {self._said(response)}"
        )
        return response

    def follow(self, response: Any, to: str | None = None) -> Page:
        """The page a redirect leads to (checked against ``to``, fragment aside)."""
        location = response["Location"]
        path = urlsplit(location).path
        if to is not None:
            assert path == urlsplit(to).path, f"redirected to {location}, expected {to}"
        return self.open(location)

    @staticmethod
    def _said(response: Any) -> str:
        if response.get("Content-Type", "").startswith("text/html"):
            page = Page("", response)
            errors = re.findall(r'class="(?:msg error|errorlist)[^"]*"[^>]*>(.*?)</', page.html, flags=re.S)
            return " | ".join(" ".join(unescape(re.sub("<[^>]+>", " ", e)).split()) for e in errors)[:800]
        return response.get("Location", "") or repr(response.content[:300])


# --- the people and what they fill in -------------------------------------------------------------------


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def expert_pool(province) -> list[User]:
    """Three experts on food, two of them new; the pool is kept by platform admins, not the workspace."""
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


def state(application: Application) -> tuple[str, int, int]:
    """What a refused move must leave untouched: the status, the decisions and the audit trail."""
    application.refresh_from_db()
    return (
        application.status,
        Decision.objects.filter(application=application).count(),
        AuditEvent.objects.count(),
    )


def status_of(application: Application) -> str:
    application.refresh_from_db()
    return application.status


def detail_url(application: Application) -> str:
    return reverse("evaluation:application-detail", args=[application.uuid])


def action_url(application: Application, action: str) -> str:
    return reverse("evaluation:application-action", args=[application.uuid, action])


def decide(person: Person, page: Page, application: Application, action: str, **kwargs: Any) -> Any:
    """Post the form of one move on the application's page (its fields carry the move's prefix)."""
    status, button = kwargs.pop("status", 302), kwargs.pop("button", None)
    fields = {f"{action}-{name}": value for name, value in kwargs.items()}
    return person.submit(page, action_url(application, action), button=button, status=status, **fields)


def shows_status(page: Page, application: Application) -> None:
    """The application's page says the status the database holds."""
    label = S(status_of(application)).label
    assert f'">{label}</span>' in page.html, f"{page.url} does not show {label}"


def apply(
    person: Person, brand: Brand, product: Product, *, signer: str, scores: dict[str, str]
) -> Application:
    """An enterprise applies for ``brand`` in the workspace and submits the complete application."""
    start = person.open(reverse("evaluation:application-list"))
    assert start.links(reverse("evaluation:application-start"))
    page = person.open(reverse("evaluation:application-start"))
    form = page.form(page.url, "创建申报")
    response = person.submit(
        page,
        page.url,
        brand=form.option("brand", f"{brand.name}（"),
        batch=form.option("batch", "2025年第一批"),
    )
    application = Application.objects.get(brand=brand)
    edit = reverse("evaluation:application-edit", args=[application.uuid])
    page = person.follow(response, edit)
    assert application.status == S.DRAFT and application.number in page.text
    assert not page.has_form(action_url(application, "submit"))  # the checklist shows what is missing

    # Submitting from the application's page before the material is complete is refused.
    detail = person.open(detail_url(application))
    before = state(application)
    refused = decide(person, detail, application, "submit", status=422)
    assert "申报材料尚不完整，不能提交" in Page(detail.url, refused).text
    assert state(application) == before

    page = person.open(edit)
    details = reverse("evaluation:application-edit-details", args=[application.uuid])
    response = person.submit(
        page,
        details,
        summary=f"{brand.name}传承百年工艺，产品质量稳定，市场占有率居全省前列。",
        products=[str(product.pk)],
        national_rank="15",
        provincial_rank="2",
        credit_clean="yes",
        inspection_clean="yes",
    )
    page = person.follow(response, edit)
    assert "基本情况已保存。" in page.text

    figures = reverse("evaluation:application-edit-figures", args=[application.uuid])
    names = sorted(n for n in page.form(figures).names if n.startswith("f_"))
    assert {n.split("_")[1] for n in names} == {"2022", "2023", "2024"}
    values = {
        "revenue": "5000",
        "profit": "600",
        "tax": "250",
        "rd_spend": "260",
        "export": "0",
        "employees": "320",
    }
    response = person.submit(page, figures, **{n: values[n.split("_", 2)[2]] for n in names})
    page = person.follow(response, edit)
    assert "主要经济指标已保存。" in page.text

    assessment = reverse("evaluation:application-edit-self-assessment", args=[application.uuid])
    filled = {}
    for code, score in scores.items():
        key = code.replace(".", "_")
        filled[f"score_{key}"] = score
        filled[f"note_{key}"] = f"{code} 自评说明。"
    response = person.submit(page, assessment, **filled)
    page = person.follow(response, edit)
    assert "自评已保存。" in page.text and "3 自评（已评 3/3 项）" in page.text

    evidence = reverse("evaluation:application-evidence-add", args=[application.uuid])
    response = person.submit(
        page,
        evidence,
        file=SimpleUploadedFile("质量管理体系认证证书.pdf", PDF, content_type="application/pdf"),
        title="质量管理体系认证证书",
        indicator=page.form(evidence).option("indicator", "1.1 质量管理"),
    )
    page = person.follow(response, edit)
    assert "证明材料已上传。" in page.text and "质量管理体系认证证书" in page.text
    assert application.evidence.get().indicator.code == "1.1"

    declaration = reverse("evaluation:application-declaration", args=[application.uuid])
    response = person.submit(page, declaration, name=signer, confirm="on")
    page = person.follow(response, edit)
    assert f"承诺人 {signer} 已于" in page.text
    application.refresh_from_db()
    assert application.declaration_signed_by == signer

    # Complete: the fill-in page now offers the submission.
    response = decide(person, page, application, "submit", button="提交申报")
    page = person.follow(response, detail_url(application))
    assert status_of(application) == S.SUBMITTED
    shows_status(page, application)
    assert not person.open(edit, status=409).has_form(details)  # frozen once submitted
    return application


def register_food_brand(bob: Person, province) -> tuple[Brand, Product]:
    """Bob registers a food brand and its product on the registry's workspace pages."""
    assert bob.open(reverse("registry:brand-list")).links(reverse("registry:brand-create"))
    page = bob.open(reverse("registry:brand-create"))
    form = page.form(page.url, "登记")
    response = bob.submit(
        page,
        page.url,
        name="崂山海味",
        brand_type=form.option("brand_type", "产品品牌"),
        category=form.option("category", "加工食品"),
    )
    brand = Brand.objects.get(name="崂山海味")
    assert brand.owner == province.bob_ent and brand.category.code == "20101"
    page = bob.follow(response, brand.get_absolute_url())
    assert page.links(reverse("registry:product-create", args=[brand.uuid]))
    page = bob.open(reverse("registry:product-create", args=[brand.uuid]))
    response = bob.submit(page, page.url, name="崂山海米", specification="250g")
    product = Product.objects.get(brand=brand)
    bob.follow(response)
    return brand, product


# --- the walk ------------------------------------------------------------------------------------------


def test_a_batch_from_opening_to_certificates_through_the_workspace(province, clock):
    cache.clear()  # the objection rate limit of earlier tests
    pool = expert_pool(province)
    office = Person(province.office)
    alice = Person(province.alice)
    bob = Person(province.bob)
    jinan = Person(province.city_jinan)
    qingdao = Person(province.city_qingdao)
    experts = [Person(user) for user in pool]
    public = Person()

    # --- 1. the office writes a rule set and publishes it ---------------------------------------------
    rule_sets = office.open(reverse("standards:ruleset-list"))
    assert rule_sets.links(reverse("standards:ruleset-create"))
    page = office.open(reverse("standards:ruleset-create"))
    form = page.form(page.url, "创建草稿")
    response = office.submit(
        page,
        page.url,
        category=form.option("category", "201 食品饮料"),
        brand_type=form.option("brand_type", BrandType.objects.get(code="product").name),
        title="食品饮料产品品牌评价细则",
        pass_line="60",
        start="empty",
    )
    rules = RuleSet.objects.get(title="食品饮料产品品牌评价细则")
    rules_url = rules.get_absolute_url()
    page = office.follow(response, rules_url)
    assert rules.status == RuleSet.Status.DRAFT and "草稿" in page.text

    def add(kind: str, **fields: str) -> Page:
        page = office.open(rules_url)
        action = reverse("standards:ruleset-item-add", args=[rules.uuid, kind])
        if "parent" in fields:
            fields["parent"] = page.form(action).option(f"{kind}-parent", fields["parent"])
        response = office.submit(page, action, **{f"{kind}-{name}": value for name, value in fields.items()})
        return office.follow(response, rules_url)

    add("indicator", code="1", name="质量", max_score="60")
    add(
        "indicator", code="1.1", name="质量管理", max_score="30", parent="1 质量", guidance="体系认证与运行。"
    )
    add("indicator", code="1.2", name="质量水平", max_score="30", parent="1 质量")
    page = add("indicator", code="2", name="创新", max_score="40")
    # Incomplete: the page lists what keeps it from publication and offers no 发布 button …
    publish = reverse("standards:ruleset-publish", args=[rules.uuid])
    assert "一级指标“创新”下没有二级指标。" in page.text and not page.has_form(publish)
    # … and a publication posted anyway is refused with the same reason.
    response = office.client.post(publish)
    assert response.status_code == 302
    [said] = office.follow(response, rules_url).messages("error")
    assert "一级指标“创新”下没有二级指标" in said
    rules.refresh_from_db()
    assert rules.status == RuleSet.Status.DRAFT
    add("indicator", code="2.1", name="研发投入", max_score="40", parent="2 创新")
    add("veto", code="F1", text="申报材料弄虚作假。")
    add(
        "criterion",
        code="Z1",
        text="上年度营业收入不低于 2000 万元。",
        metric="revenue",
        operator="ge",
        threshold="2000",
    )
    page = add("criterion", code="Z2", text="拥有有效注册商标。")
    assert "内容完整" in page.text
    response = office.submit(page, publish, button="发布")
    page = office.follow(response, rules_url)
    rules.refresh_from_db()
    assert rules.status == RuleSet.Status.PUBLISHED
    assert "已发布，内容已锁定" in page.text and 'id="frozen-note"' in page.html
    assert [i.code for i in rules.indicators.filter(parent__isnull=True).order_by("position")] == ["1", "2"]
    assert not page.has_form(reverse("standards:ruleset-item-add", args=[rules.uuid, "indicator"]))
    assert alice.open(rules_url).has_form(publish) is False  # alice reads it, never writes it

    # --- the office creates the batch, attaches the rule set and opens it --------------------------------
    batches = office.open(reverse("evaluation:batch-list"))
    assert batches.links(reverse("evaluation:batch-create"))
    alice.open(reverse("evaluation:batch-create"), status=403)
    page = office.open(reverse("evaluation:batch-create"))
    response = office.submit(
        page,
        page.url,
        button="创建",
        year="2025",
        sequence="1",
        title="2025年第一批“好品山东”品牌评价",
        apply_from="2025-05-01",
        apply_until="2025-06-30",
        notice_days="5",
        panel_size="3",
        reserve_size="0",
        avoid_same_city=None,
    )
    batch = Batch.objects.get(year=2025, sequence=1)
    batch_url = batch.get_absolute_url()
    page = office.follow(response, batch_url)
    assert batch.status == Batch.Status.DRAFT and page.badge("batch-status") == "草稿"
    assert not batch.avoid_same_city and batch.panel_size == 3
    open_move = reverse("evaluation:batch-move", args=[batch.uuid, "open"])
    # Opening without a rule set is offered but refused, with the reason, and changes nothing.
    response = office.submit(page, open_move, button="开始申报")
    page = office.follow(response, batch_url)
    assert page.messages("error") == ["请先为批次选用至少一套评价细则。"]
    assert page.badge("batch-status") == "草稿"
    assert Batch.objects.get(pk=batch.pk).status == Batch.Status.DRAFT
    attach = reverse("evaluation:batch-rule-set-attach", args=[batch.uuid])
    response = office.submit(
        page, attach, rule_set=page.form(attach).option("rule_set", "食品饮料产品品牌评价细则")
    )
    page = office.follow(response, batch_url)
    assert "已选用“食品饮料产品品牌评价细则（第 1 版）”。" in page.text
    response = office.submit(page, open_move, button="开始申报")
    page = office.follow(response, batch_url)
    batch.refresh_from_db()
    assert batch.status == Batch.Status.OPEN and page.badge("batch-status") == "申报中"
    assert list(batch.rule_sets.values_list("rule_set", flat=True)) == [rules.pk]

    # --- 2. alice and bob apply -----------------------------------------------------------------------
    alice_app = apply(
        alice,
        province.alice_brand,
        province.alice_product,
        signer="李明",
        scores={"1.1": "27", "1.2": "26.5", "2.1": "33"},
    )
    assert alice_app.rule_set == rules and alice_app.route == Application.Route.VOLUNTARY
    bob_brand, bob_product = register_food_brand(bob, province)
    bob_app = apply(
        bob, bob_brand, bob_product, signer="王海", scores={"1.1": "22", "1.2": "21", "2.1": "28"}
    )
    alice.open(detail_url(bob_app), status=404)  # another enterprise's application

    # --- 3. the city bureaus recommend ----------------------------------------------------------------
    qingdao.open(detail_url(alice_app), status=404)  # Jinan's applicant, not Qingdao's
    page = jinan.open(detail_url(alice_app))
    assert 'id="action-recommend"' in page.html
    before = state(alice_app)
    refused = decide(jinan, page, alice_app, "recommend", status=422)  # no opinion
    assert "执行“推荐”时必须填写" in Page(page.url, refused).text
    assert state(alice_app) == before
    response = decide(jinan, page, alice_app, "recommend", opinion="材料真实，同意推荐。")
    shows_status(jinan.follow(response, detail_url(alice_app)), alice_app)
    assert alice_app.status == S.RECOMMENDED
    page = qingdao.open(detail_url(bob_app))
    response = decide(qingdao, page, bob_app, "recommend", opinion="同意推荐。")
    qingdao.follow(response, detail_url(bob_app))
    assert status_of(bob_app) == S.RECOMMENDED

    # --- 4. the office's qualification review and credit check ---------------------------------------
    page = alice.open(detail_url(alice_app))
    assert 'id="action-qualify"' not in page.html and not page.has_form(action_url(alice_app, "qualify"))
    before = state(alice_app)
    response = alice.client.post(
        action_url(alice_app, "qualify"),
        {"qualify-expected_status": "recommended", "qualify-opinion": "通过"},
    )
    assert response.status_code == 403
    assert state(alice_app) == before

    z1, z2 = rules.criteria.get(code="Z1"), rules.criteria.get(code="Z2")
    seen = {}  # the page the office qualified each application from
    for application in (alice_app, bob_app):
        page = office.open(detail_url(application))
        assert "Z1" in page.text and "Z2" in page.text and "待审查" in page.text
        # Z1 is decided from the figures (5000 ≥ 2000); only Z2 asks for the reviewer's finding.
        assert not page.has_form(reverse("evaluation:application-criterion", args=[application.uuid, z1.pk]))
        check_url = reverse("evaluation:application-criterion", args=[application.uuid, z2.pk])
        if application == alice_app:
            before = state(application)
            refused = Page(
                page.url, decide(office, page, application, "qualify", status=422, opinion="符合。")
            )
            assert "不能“资格审查通过”" in refused.text and "Z2" in refused.text
            assert state(application) == before
        response = office.submit(
            page, check_url, **{f"c{z2.pk}-met": "yes", f"c{z2.pk}-note": "核验商标注册证。"}
        )
        page = seen[application.pk] = office.follow(response, detail_url(application))
        assert "已记录资格条件 Z2 的审查结论。" in page.text and "全部资格条件已满足。" in page.text
        response = decide(office, page, application, "qualify", opinion="符合申报条件。")
        page = office.follow(response, detail_url(application))
        assert status_of(application) == S.QUALIFIED
        shows_status(page, application)
        assert not page.has_form(action_url(application, "qualify"))
    # The same form posted a second time (a double click, a reload) is refused as such.
    before = state(alice_app)
    response = decide(office, seen[alice_app.pk], alice_app, "qualify", status=409, opinion="符合申报条件。")
    said = Page(detail_url(alice_app), response)
    assert 'id="conflict"' in said.html and "已被他人处理" in said.text
    assert state(alice_app) == before
    for application in (alice_app, bob_app):
        page = office.open(detail_url(application))
        response = decide(office, page, application, "check", opinion="舆情与信用核查无异常。")
        shows_status(office.follow(response, detail_url(application)), application)
        assert application.status == S.CHECKED

    # --- the expert review ------------------------------------------------------------------------------
    page = office.open(batch_url)
    response = office.submit(
        page, reverse("evaluation:batch-move", args=[batch.uuid, "close_applications"]), button="截止申报"
    )
    page = office.follow(response, batch_url)
    batch.refresh_from_db()
    assert batch.status == Batch.Status.REVIEWING and page.badge("batch-status") == "评审中"
    review_url = reverse("evaluation:batch-rule-set", args=[batch.uuid, rules.uuid])
    assert page.links(review_url)
    page = office.open(review_url)
    draw = reverse("evaluation:draw-panels", args=[batch.uuid, rules.uuid])
    response = office.submit(page, draw, seed="2025-walk")
    page = office.follow(response)
    assert "已为 2 件申报抽取评审专家（随机种子 2025-walk）" in page.text
    assert status_of(alice_app) == status_of(bob_app) == S.EXPERT_REVIEW
    assert Assignment.objects.filter(status=Assignment.Status.INVITED).count() == 6
    page = office.open(review_url)
    assert not page.has_form(draw)  # nothing left to draw
    aggregate = reverse("evaluation:batch-aggregate", args=[batch.uuid, rules.uuid])
    assert 'disabled aria-disabled="true"' in page.html  # scores missing: the button is disabled

    shares = {alice_app.pk: (0.9, 0.85, 0.8), bob_app.pk: (0.7, 0.75, 0.72)}
    for index, expert in enumerate(experts):
        listing = expert.open(reverse("evaluation:assignment-list"))
        for application in (alice_app, bob_app):
            assert application.number in listing.text
            seat = reverse("evaluation:assignment-detail", args=[application.uuid])
            scores_url = reverse("evaluation:assignment-scores", args=[application.uuid])
            assert listing.links(seat)
            expert.open(detail_url(application), status=404)  # not before declaring
            assert urlsplit(expert.get(scores_url)["Location"]).path == seat  # nor its score sheet
            page = expert.open(seat)
            response = expert.submit(
                page,
                reverse("evaluation:assignment-accept", args=[application.uuid]),
                button="声明无利益冲突",
            )
            page = expert.follow(response, seat)
            assert "已声明与申报单位无利益冲突" in page.text and page.links(scores_url)
            assert expert.open(detail_url(application)).text  # the application is now visible

            sheet = expert.open(scores_url)
            share = shares[application.pk][index]
            filled = {}
            for code, top in LEAVES:
                key = code.replace(".", "_")
                filled[f"score_{key}"] = str(round(top * share, 1))
                filled[f"comment_{key}"] = f"{code} 评价意见。"
            response = expert.submit(sheet, scores_url, button="提交评分", **filled)
            confirm_url = reverse("evaluation:assignment-submit", args=[application.uuid])
            confirm = expert.follow(response, confirm_url)
            assert "您已对全部 3 项指标评分" in confirm.text
            response = expert.submit(confirm, confirm_url, button="确认提交评分")
            page = expert.follow(response, seat)
            assert f"已提交申报 {application.number} 的评分" in page.text
            assignment = Assignment.objects.get(application=application, expert__user=expert.user)
            assert assignment.status == Assignment.Status.SUBMITTED and "已提交评分" in page.text
            # The submitted sheet is read-only; posting the old form again changes nothing.
            assert not expert.open(scores_url).has_form(scores_url)
            kept = list(assignment.scores.values_list("score", flat=True))
            response = expert.client.post(scores_url, sheet.form(scores_url).data({"score_1_1": "0"}))
            assert expert.follow(response, scores_url).messages("error") == ["评分已提交，不能再修改。"]
            assert list(assignment.scores.values_list("score", flat=True)) == kept

    page = office.open(review_url)
    response = office.submit(page, aggregate, button="汇总评审结果")
    ranking_url = reverse("evaluation:ranking", args=[batch.uuid, rules.uuid])
    ranking = office.follow(response, ranking_url)
    assert "已汇总 2 件申报的评审结果，2 件达到合格分数线" in ranking.text
    assert status_of(alice_app) == status_of(bob_app) == S.REVIEWED  # the review is complete
    rows = re.findall(r'<tr id="row-([^"]+)">\s*<td>(\d+)', ranking.html)
    assert rows == [(alice_app.number, "1"), (bob_app.number, "2")]
    alice_app.refresh_from_db()
    assert alice_app.score_total == Decimal("85.00") and alice_app.passed and alice_app.rank == 1
    scoring_sheet = office.open(reverse("evaluation:scoring-sheet", args=[batch.uuid, alice_app.uuid]))
    assert Decimal(scoring_sheet.badge("total")) == Decimal("85") and "专家2" in scoring_sheet.text
    alice.open(reverse("evaluation:scoring-sheet", args=[batch.uuid, alice_app.uuid]), status=403)
    assert 'id="results"' not in alice.open(detail_url(alice_app)).html  # scores are for the office

    # --- consultation, approval, the public notice ---------------------------------------------------
    for application in (alice_app, bob_app):
        page = office.open(detail_url(application))
        assert 'id="results"' in page.html
        response = decide(office, page, application, "consult", opinion="相关部门无不同意见。")
        page = office.follow(response, detail_url(application))
        assert status_of(application) == S.CONSULTED
        response = decide(office, page, application, "approve", opinion="审定通过。")
        shows_status(office.follow(response, detail_url(application)), application)
        assert application.status == S.APPROVED
    page = office.open(batch_url)
    response = office.submit(
        page, reverse("evaluation:batch-move", args=[batch.uuid, "open_notice"]), button="发布公示"
    )
    page = office.follow(response, batch_url)
    batch.refresh_from_db()
    notice = PublicNotice.objects.get(batch=batch)
    assert batch.status == Batch.Status.NOTICE and page.badge("batch-status") == "公示中"
    assert (notice.starts_on, notice.ends_on) == (dt.date(2025, 5, 13), dt.date(2025, 5, 19))
    assert status_of(alice_app) == status_of(bob_app) == S.NOTICE

    # --- 5. an anonymous visitor objects; the office answers ---------------------------------------
    notice_url = reverse("evaluation:public-notice-detail", args=[notice.uuid])
    assert public.open(reverse("evaluation:public-notice-list")).links(notice_url)
    page = public.open(notice_url)
    assert page.badge("notice-phase") == "公示中"
    object_url = reverse("evaluation:public-objection-new", args=[notice.uuid, bob_app.number])
    assert page.links(object_url) and alice_app.number in page.text
    page = public.open(object_url)
    response = public.submit(
        page,
        object_url,
        button="提交异议",
        name="张三",
        phone="13800138000",
        email="zhangsan@example.com",
        content="该品牌的海米产品去年曾在市场抽检中被发现标签不符，请核查。",
        evidence=SimpleUploadedFile("抽检报告.pdf", PDF, content_type="application/pdf"),
    )
    objection = Objection.objects.get(application=bob_app)
    status_page = public.follow(
        response, reverse("evaluation:public-objection-status", args=[objection.number])
    )
    assert objection.status == Objection.Status.OPEN and status_page.badge("objection-status")
    assert "13800138000" not in status_page.text and "张三" not in status_page.text

    # Publishing with an objection pending (and the notice running) is refused.
    page = office.open(batch_url)
    assert "发布结果前还需办结" in page.text
    response = office.submit(page, reverse("evaluation:batch-move", args=[batch.uuid, "publish"]))
    page = office.follow(response, batch_url)
    [said] = page.messages("error")
    assert said.startswith("公示尚未办结，不能发布结果：") and objection.number in said
    assert page.badge("batch-status") == "公示中"
    assert Batch.objects.get(pk=batch.pk).status == Batch.Status.NOTICE

    objections = office.open(reverse("evaluation:objection-list"))
    assert objection.number in objections.text and "13800138000" in objections.text
    alice.open(reverse("evaluation:objection-list"), status=403)
    # The office opens the objection from the notification it received.
    inbox = office.open(reverse("notifications:list"))
    note = re.search(r'<a href="([^"]+)">收到对“崂山海味”的公示异议（' + objection.number, inbox.html)
    assert note, "no notification of the objection"
    objection_url = reverse("evaluation:objection-detail", args=[objection.uuid])
    opened = office.get(unescape(note.group(1)))
    assert opened.status_code == 302 and urlsplit(opened["Location"]).path == objection_url
    page = office.open(objection_url)
    response = office.submit(
        page,
        objection_url,
        button="提交答复",
        outcome="dismissed",
        answer="经核查，该批次产品标签符合要求，异议不成立。",
    )
    page = office.follow(response, objection_url)
    objection.refresh_from_db()
    assert objection.status == Objection.Status.DISMISSED and "已答复异议" in page.text
    assert not page.has_form(objection_url)  # answered once, for good
    assert status_of(bob_app) == S.NOTICE
    answered = public.open(reverse("evaluation:public-objection-status", args=[objection.number]))
    assert answered.badge("objection-status") == objection.get_status_display()
    assert "异议不成立" in answered.text

    # --- 6. the notice ends by itself; the office publishes ------------------------------------------
    clock.move_to(AFTER_NOTICE)
    call_command("tick", stdout=io.StringIO())
    notice.refresh_from_db()
    assert notice.status == PublicNotice.Status.CLOSED
    assert public.open(notice_url).badge("notice-phase") == "公示结束"
    for person in (office, alice):
        person.sign_in()  # a new working day: the sessions of a week ago have expired
    page = office.open(batch_url)
    response = office.submit(
        page, reverse("evaluation:batch-move", args=[batch.uuid, "publish"]), button="发布结果并发证"
    )
    page = office.follow(response, batch_url)
    batch.refresh_from_db()
    assert batch.status == Batch.Status.PUBLISHED and page.badge("batch-status") == "已发布"
    assert status_of(alice_app) == status_of(bob_app) == S.PUBLISHED
    shows_status(alice.open(detail_url(alice_app)), alice_app)

    # --- the certificates: the office's pages, the PDF, the public verification ---------------------
    certificates = Certificate.objects.filter(batch=batch).order_by("brand__name")
    assert sorted(c.brand.name for c in certificates) == ["崂山海味", "泉城"]
    certificate = certificates.get(application=alice_app)
    listing = office.open(reverse("certificates:certificate-list"))
    detail = reverse("certificates:certificate-detail", args=[certificate.uuid])
    assert listing.links(detail) and certificate.number in listing.text
    page = office.open(detail)
    assert page.badge("certificate-status") == "有效" and "泉城食品有限公司" in page.text
    assert "泉城酥锅" in page.text
    pdf_url = reverse("certificates:certificate-pdf", args=[certificate.uuid])
    assert page.links(pdf_url)
    download = office.get(pdf_url)
    assert download.status_code == 200 and download["Content-Type"] == "application/pdf"
    assert download.content.startswith(b"%PDF")
    verify_url = reverse("certificates:verify", args=[certificate.number])
    assert page.links(verify_url)
    verified = public.open(verify_url)
    assert "有效" in verified.text and certificate.number in verified.text
    assert "泉城食品有限公司" in verified.text and "2025年5月21日" in verified.text
    call_command("audit_verify", stdout=io.StringIO())
