"""Enterprise self-registration: the page, inline checks, bad input, throttling, the service."""

from __future__ import annotations

import pytest
from django.urls import reverse

from haopin.accounts import services, views
from haopin.accounts.models import Membership, Organisation, User
from haopin.core.errors import ValidationFailed
from haopin.core.models import AuditEvent, Region
from haopin.core.policies import ScopeKind, scope_of
from haopin.registry.models import Enterprise
from haopin.registry.validation import make_uscc

URL = "/accounts/register/"
GOOD_PASSWORD = "Quan-Cheng-2025!"


def form_data(**overrides):
    data = {
        "uscc": make_uscc("370102", 777),
        "name": "济南趵突泉饮品有限公司",
        "kind": "enterprise",
        "region": "370102",
        "legal_representative": "赵建国",
        "contact_name": "孙丽",
        "contact_phone": "13805310000",
        "contact_email": "sunli@example.cn",
        "username": "baotuquan",
        "password": GOOD_PASSWORD,
        "password2": GOOD_PASSWORD,
    }
    data.update(overrides)
    return data


def test_url_name():
    assert reverse("accounts:register") == URL


def test_page_offers_counties_grouped_by_city(client, province):
    response = client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert '<optgroup label="济南市">' in html
    assert '<optgroup label="青岛市">' in html
    assert 'value="370102"' in html  # 历下区
    assert 'value="370100"' not in html  # a city is not offered
    assert "所在地的市市场监督管理局审核" in html
    assert 'hx-post="/accounts/register/"' in html


def test_signed_in_user_is_sent_to_the_workspace(client, province):
    client.force_login(province.alice)
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"] == reverse("workspace:home")


def test_registration_creates_a_pending_enterprise_and_its_manager(client, province):
    response = client.post(URL, form_data())
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:register-done")

    org = Organisation.objects.get(uscc=make_uscc("370102", 777))
    assert org.status == Organisation.Status.PENDING
    assert org.kind == Organisation.Kind.ENTERPRISE
    assert org.region.code == "370102"
    user = User.objects.get(username="baotuquan")
    assert user.check_password(GOOD_PASSWORD)
    assert (user.full_name, user.phone, user.email) == ("孙丽", "13805310000", "sunli@example.cn")
    membership = Membership.objects.get(user=user)
    assert membership.organisation == org and membership.role == Membership.Role.MANAGER
    enterprise = Enterprise.objects.get(uscc=org.uscc)
    assert enterprise.organisation == org and enterprise.legal_representative == "赵建国"

    event = AuditEvent.objects.get(action="accounts.organisation.registered")
    assert event.target_id == str(org.pk) and event.actor_id == user.pk
    assert event.new["status"] == "pending" and event.new["uscc"] == org.uscc
    # A pending organisation gives its members no scope yet.
    assert scope_of(user).kind == ScopeKind.NONE

    done = client.get(response["Location"])
    assert done.status_code == 200
    page = done.content.decode()
    assert "济南趵突泉饮品有限公司" in page
    assert "济南市市场监督管理局" in page  # the bureau that reviews it
    assert "等待审核" in page


def test_brand_owner_may_register(client, province):
    response = client.post(
        URL,
        form_data(kind="brand_owner", name="章丘大葱产业协会", uscc=make_uscc("370114", 8, authority="5")),
    )
    assert response.status_code == 302
    org = Organisation.objects.get(name="章丘大葱产业协会")
    assert org.kind == Organisation.Kind.BRAND_OWNER


def test_result_page_needs_a_registration_in_this_session(client, province):
    response = client.get(reverse("accounts:register-done"))
    assert response.status_code == 302
    assert response["Location"] == URL


def test_registration_links_an_enterprise_already_in_the_registry(client, province):
    uscc = make_uscc("370102", 901)
    imported = Enterprise.objects.create(uscc=uscc, name="历下老字号食品厂", region=province.lixia)
    response = client.post(URL, form_data(uscc=uscc, name="历下老字号食品厂"))
    assert response.status_code == 302
    imported.refresh_from_db()
    assert imported.organisation.uscc == uscc
    assert AuditEvent.objects.filter(action="registry.enterprise.linked", target_id=str(imported.pk)).exists()


def _wrong_check_character():
    good = make_uscc("370102", 777)
    return good[:-1] + ("0" if good[-1] != "0" else "1")


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"uscc": "__WRONG_CHECK__"}, "uscc", "校验位错误：末位应为"),
        ({"uscc": "91370102"}, "uscc", "应为 18 位"),
        ({"uscc": "__DUPLICATE__"}, "uscc", "已注册"),
        ({"region": "370100"}, "region", "请选择所在的县（市、区）"),
        ({"region": "370000"}, "region", "请选择所在的县（市、区）"),
        ({"region": "999999"}, "region", "请选择山东省内的行政区划"),
        ({"password": "12345678", "password2": "12345678"}, "password", "不能全部为数字"),
        ({"password": "password", "password2": "password"}, "password", "太常见"),
        ({"password": "Ab1!", "password2": "Ab1!"}, "password", "太短"),
        ({"password2": "something-else-9"}, "password2", "两次输入的密码不一致"),
        ({"username": "alice"}, "username", "该用户名已被使用"),
        ({"username": "ALICE"}, "username", "该用户名已被使用"),
        ({"username": "有 空格"}, "username", "用户名只能包含"),
        ({"contact_phone": "12345"}, "contact_phone", "联系电话“12345”格式不正确"),
        ({"contact_email": "not-an-email"}, "contact_email", "有效的电子邮箱"),
        ({"name": ""}, "name", "请填写此项"),
        ({"kind": "office"}, "kind", "选择一个有效的选项"),
    ],
)
def test_bad_input_is_explained_and_changes_nothing(client, province, counts, overrides, field, message):
    if overrides.get("uscc") == "__WRONG_CHECK__":
        overrides["uscc"] = _wrong_check_character()
    if overrides.get("uscc") == "__DUPLICATE__":
        overrides["uscc"] = province.alice_org.uscc
    before = counts()
    response = client.post(URL, form_data(**overrides))
    assert response.status_code == 200
    form = response.context["form"]
    assert field in form.errors, form.errors
    assert message in " ".join(form.errors[field])
    assert "注册未提交" in response.content.decode()
    assert counts() == before


def test_wrong_check_character_message_names_the_expected_character(client, province):
    good = make_uscc("370102", 777)
    response = client.post(URL, form_data(uscc=_wrong_check_character()))
    assert f"末位应为 {good[-1]}" in response.content.decode()


# --- the service, called directly (the API and commands share it) ----------------------------


def service_args(province, **overrides):
    args = {
        "uscc": make_uscc("370102", 555),
        "name": "泉水酿造有限公司",
        "region": province.lixia,
        "legal_representative": "钱勇",
        "contact_name": "钱勇",
        "contact_phone": "13905310001",
        "contact_email": "q@example.cn",
        "username": "quanshui",
        "password": GOOD_PASSWORD,
    }
    args.update(overrides)
    return args


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"uscc": "913701020000005550"}, "uscc"),
        ({"uscc": "__DUPLICATE__"}, "uscc"),
        ({"region": "__CITY__"}, "region"),
        ({"password": "12345678"}, "password"),
        ({"username": "bob"}, "username"),
        ({"kind": "city_bureau"}, None),
    ],
)
def test_service_refuses_bad_input_and_leaves_nothing_behind(province, counts, overrides, field):
    if overrides.get("uscc") == "__DUPLICATE__":
        overrides["uscc"] = province.bob_org.uscc
    if overrides.get("region") == "__CITY__":
        overrides["region"] = province.jinan
    before = counts()
    with pytest.raises(ValidationFailed) as raised:
        services.enterprise_register(**service_args(province, **overrides))
    if field:
        assert field in raised.value.details
    assert counts() == before


# --- inline checks (htmx) ---------------------------------------------------------------------


def htmx_post(client, field, **overrides):
    return client.post(URL, form_data(**overrides), HTTP_HX_REQUEST="true", HTTP_HX_TRIGGER_NAME=field)


def test_inline_check_of_the_credit_code(client, province, counts):
    before = counts()
    response = htmx_post(client, "uscc", uscc=_wrong_check_character())
    assert response.status_code == 200
    html = response.content.decode()
    assert html.strip().startswith('<div class="field invalid"')
    assert 'id="field-uscc"' in html
    assert "校验位错误" in html
    assert "<form" not in html  # only the field comes back

    response = htmx_post(client, "uscc")
    html = response.content.decode()
    assert "invalid" not in html
    assert "登记机关所在地：济南市历下区" in html
    assert counts() == before  # checking never registers


def test_inline_check_of_user_name_and_password(client, province):
    assert "该用户名已被使用" in htmx_post(client, "username", username="alice").content.decode()
    assert "该用户名已被使用" not in htmx_post(client, "username", username="newcomer").content.decode()
    html = htmx_post(client, "password", password="12345678", password2="").content.decode()
    assert "全部为数字" in html
    # The password is never sent back to the browser.
    assert "12345678" not in html


def test_inline_check_of_an_unknown_field_is_refused(client, province):
    assert htmx_post(client, "is_superuser").status_code == 400


# --- throttling ---------------------------------------------------------------------------------


def test_submissions_are_limited_per_client_address(client, province, monkeypatch, counts):
    monkeypatch.setattr(views, "REGISTER_RATE", views.Rate(limit=2, window=3600))
    client.post(URL, form_data(username="first", uscc=_wrong_check_character()))
    client.post(URL, form_data(username="second", uscc=_wrong_check_character()))
    before = counts()
    response = client.post(URL, form_data())
    assert response.status_code == 429
    assert "提交次数过多" in response.content.decode()
    assert counts() == before
    # Another address is not affected.
    other = client.post(URL, form_data(), REMOTE_ADDR="10.1.2.3")
    assert other.status_code == 302


def test_inline_checks_are_limited_too(client, province, monkeypatch):
    monkeypatch.setattr(views, "VALIDATE_RATE", views.Rate(limit=3, window=3600))
    for _ in range(3):
        assert htmx_post(client, "username", username=f"u{_}").status_code == 200
    assert htmx_post(client, "username", username="u9").status_code == 429


def test_registered_user_signs_in_and_is_told_to_wait(client, province):
    client.post(URL, form_data())
    assert client.login(username="baotuquan", password=GOOD_PASSWORD)
    home = client.get(reverse("workspace:home"))
    assert "等待所在地市场监管部门审核" in home.content.decode()
    # Until approved, the account sees no organisation data.
    assert client.get(reverse("accounts:organisation-list")).status_code == 403


def test_region_choices_contain_only_current_counties(province):
    Region.objects.filter(code="370102").update(active=False)
    from haopin.accounts.forms import RegistrationForm

    codes = [code for _, group in RegistrationForm().fields["region"].widget.choices[1:] for code, _ in group]
    assert "370102" not in codes and "370112" in codes
