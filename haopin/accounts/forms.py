"""Forms of the accounts pages: they parse and pre-check input; the services decide.

A form's checks give fast, field-by-field feedback (also inline, through htmx); the service
called afterwards repeats every rule that matters, and its ValidationFailed details are put back
on the form's fields by ``apply_errors``.
"""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError

from haopin.accounts import policies, selectors
from haopin.accounts.models import ExpertProfile, Membership, Organisation, User
from haopin.accounts.passwords import password_problems
from haopin.core.errors import DomainError
from haopin.core.models import Category, Region, SourceProgramme
from haopin.registry.validation import normalise_uscc, validate_phone

REQUIRED = "请填写此项。"


class InlineValidation:
    """Marks every widget so that htmx posts the form to ``validate_url`` when the field changes.

    The view answers such a request with the one field re-rendered (``accounts/field.html``);
    ``hx-preserve`` keeps what the user typed (passwords are never sent back).
    """

    def enable_inline_validation(self, validate_url: str) -> None:
        for name, field in self.fields.items():  # type: ignore[attr-defined]
            field.widget.attrs.update(
                {
                    "hx-post": validate_url,
                    "hx-trigger": "change",
                    "hx-target": f"#field-{name}",
                    "hx-swap": "outerHTML",
                    "hx-preserve": "true",
                }
            )


def apply_errors(form: forms.Form, error: DomainError, *, aliases: dict[str, str] | None = None) -> None:
    """Put a service's ValidationFailed details on the form's fields (unknown ones on the form)."""
    aliases = aliases or {}
    placed = False
    for key, message in (error.details or {}).items():
        name = aliases.get(key, key)
        if name in form.fields:
            form.add_error(name, message)
            placed = True
    if not placed:
        form.add_error(None, error.message)


def _clean_uscc(value: str) -> str:
    try:
        return normalise_uscc(value)
    except ValidationError as exc:
        raise forms.ValidationError(exc.messages[0]) from exc


def _region_field(label: str, help_text: str = "") -> forms.CharField:
    """A <select> of regions whose choices the form sets; the code is checked in ``clean_region``,
    so a region of the wrong level gets a message that says so, not "invalid choice"."""
    return forms.CharField(label=label, max_length=6, help_text=help_text, widget=forms.Select)


def _region_by_code(code: str) -> Region:
    region = Region.objects.select_related("parent").filter(code=code, active=True).first()
    if region is None:
        raise forms.ValidationError("请选择山东省内的行政区划。")
    return region


class _UsernameMixin:
    def clean_username(self) -> str:
        username = self.cleaned_data["username"].strip()  # type: ignore[attr-defined]
        UnicodeUsernameValidator(message="用户名只能包含字母、数字和 @/./+/-/_ 字符。")(username)
        if User.objects.filter(username__iexact=username).exists():
            raise forms.ValidationError("该用户名已被使用，请换一个。")
        return username


def _check_password(form: forms.BaseForm, field: str, user: User) -> None:
    password = form.cleaned_data.get(field)
    if password:
        for problem in password_problems(password, user):
            form.add_error(field, problem)


# --- self-registration -------------------------------------------------------------------------


class RegistrationForm(InlineValidation, _UsernameMixin, forms.Form):
    uscc = forms.CharField(
        label="统一社会信用代码",
        max_length=30,
        help_text="18 位，见营业执照或登记证书。",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "inputmode": "text"}),
    )
    name = forms.CharField(label="单位名称", max_length=100, help_text="与营业执照上的名称一致。")
    kind = forms.ChoiceField(
        label="主体类型",
        choices=[
            (Organisation.Kind.ENTERPRISE, "企业"),
            (Organisation.Kind.BRAND_OWNER, "区域品牌或地理标志品牌的所有者（协会、县级政府等）"),
        ],
        initial=Organisation.Kind.ENTERPRISE,
    )
    region = _region_field("所在县（市、区）", "注册由该地所属的市市场监督管理局审核。")
    legal_representative = forms.CharField(label="法定代表人", max_length=50)
    contact_name = forms.CharField(label="联系人", max_length=50)
    contact_phone = forms.CharField(
        label="联系电话",
        max_length=20,
        validators=[validate_phone],
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )
    contact_email = forms.EmailField(
        label="电子邮箱",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        error_messages={"invalid": "请输入有效的电子邮箱地址。"},
    )
    username = forms.CharField(
        label="登录用户名",
        max_length=150,
        help_text="字母、数字或 @/./+/-/_，注册后用于登录。",
        widget=forms.TextInput(attrs={"autocomplete": "username"}),
    )
    password = forms.CharField(
        label="密码",
        strip=False,
        help_text="至少 8 位，不能全为数字，不能过于常见或与用户名相近。",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label="确认密码",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["region"].widget.choices = [("", "请选择"), *selectors.county_choices_by_city()]
        for field in self.fields.values():
            field.error_messages.setdefault("required", REQUIRED)
            field.error_messages["required"] = REQUIRED
        # Shown under the credit code once it is valid: where it was registered.
        self.uscc_hint = ""

    def clean_uscc(self) -> str:
        uscc = _clean_uscc(self.cleaned_data["uscc"])
        if Organisation.objects.filter(uscc=uscc).exists():
            raise forms.ValidationError("该统一社会信用代码已注册。如需账号，请联系本单位的平台管理员。")
        division = Region.objects.select_related("parent").filter(code=uscc[2:8]).first()
        if division is not None:
            self.uscc_hint = f"代码有效，登记机关所在地：{division.full_name}。"
        else:
            self.uscc_hint = "代码有效。"
        return uscc

    def clean_region(self) -> Region:
        region = _region_by_code(self.cleaned_data["region"])
        if region.level != Region.Level.COUNTY:
            raise forms.ValidationError("请选择所在的县（市、区），而不是市或省。")
        return region

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        candidate = User(
            username=data.get("username", ""),
            full_name=data.get("contact_name", ""),
            email=data.get("contact_email", ""),
        )
        _check_password(self, "password", candidate)
        if data.get("password") and data.get("password2") and data["password"] != data["password2"]:
            self.add_error("password2", "两次输入的密码不一致。")
        return data

    def service_arguments(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "uscc": data["uscc"],
            "name": data["name"],
            "kind": data["kind"],
            "region": data["region"],
            "legal_representative": data["legal_representative"],
            "contact_name": data["contact_name"],
            "contact_phone": data["contact_phone"],
            "contact_email": data["contact_email"],
            "username": data["username"],
            "password": data["password"],
        }


# --- review of a registration ------------------------------------------------------------------


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", "通过"), ("reject", "不予通过")])
    note = forms.CharField(
        label="审核意见",
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="不予通过时必须填写原因，申请人登录后可以看到。",
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("decision") == "reject" and not (data.get("note") or "").strip():
            self.add_error("note", "不予通过时请填写原因。")
        return data


# --- members -----------------------------------------------------------------------------------


class MemberAddForm(InlineValidation, _UsernameMixin, forms.Form):
    username = forms.CharField(
        label="登录用户名", max_length=150, widget=forms.TextInput(attrs={"autocomplete": "off"})
    )
    full_name = forms.CharField(label="姓名", max_length=50)
    role = forms.ChoiceField(
        label="角色", choices=Membership.Role.choices, initial=Membership.Role.STAFF, help_text=""
    )
    password = forms.CharField(
        label="初始密码",
        strip=False,
        help_text="请当面或电话告知成员，并提醒其登录后修改。",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    email = forms.EmailField(
        label="电子邮箱", required=False, error_messages={"invalid": "请输入有效的电子邮箱地址。"}
    )
    phone = forms.CharField(label="手机号码", max_length=20, required=False, validators=[validate_phone])

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["role"].help_text = "管理员可管理成员；经办人可办理业务；只读成员只能查看。"
        for field in self.fields.values():
            field.error_messages["required"] = REQUIRED

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        candidate = User(
            username=data.get("username", ""),
            full_name=data.get("full_name", ""),
            email=data.get("email", ""),
        )
        _check_password(self, "password", candidate)
        return data


class MemberUpdateForm(forms.Form):
    role = forms.ChoiceField(choices=Membership.Role.choices, required=False)
    active = forms.TypedChoiceField(
        choices=[("1", "启用"), ("0", "停用")], coerce=lambda v: v == "1", required=False, empty_value=None
    )


# --- organisations (public bodies, by the office) --------------------------------------------


class OrganisationCreateForm(InlineValidation, forms.Form):
    name = forms.CharField(label="单位名称", max_length=100)
    short_name = forms.CharField(label="简称", max_length=40, required=False)
    kind = forms.ChoiceField(label="单位类型")
    region = _region_field("所在区划", "市、县市场监管部门的辖区由此确定。")
    uscc = forms.CharField(label="统一社会信用代码", max_length=30, required=False)
    managed_categories = forms.ModelMultipleChoiceField(
        label="主管类别",
        queryset=Category.objects.filter(active=True, level__lte=2),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="仅省直部门：其可见范围为这些类别（含下级类别）的品牌。",
    )
    managed_programmes = forms.ModelMultipleChoiceField(
        label="主管品牌来源",
        queryset=SourceProgramme.objects.filter(active=True),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="仅省直部门：如商务厅主管老字号。",
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        kinds = [
            (value, label)
            for value, label in Organisation.Kind.choices
            if policies.can_create_organisation(user, value)
        ]
        cast(forms.ChoiceField, self.fields["kind"]).choices = [("", "请选择"), *kinds]
        self.fields["region"].widget.choices = [("", "请选择"), *selectors.region_choices_by_city()]
        for field in self.fields.values():
            field.error_messages["required"] = REQUIRED

    def clean_region(self) -> Region:
        return _region_by_code(self.cleaned_data["region"])

    def clean_uscc(self) -> str:
        value = self.cleaned_data["uscc"].strip()
        if not value:
            return ""
        uscc = _clean_uscc(value)
        if Organisation.objects.filter(uscc=uscc).exists():
            raise forms.ValidationError("该统一社会信用代码已被其他单位使用。")
        return uscc

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kind, region = data.get("kind"), data.get("region")
        if isinstance(region, Region):
            if kind == Organisation.Kind.CITY_BUREAU and region.level != Region.Level.CITY:
                self.add_error("region", "市市场监管局的区划应为一个市。")
            if kind == Organisation.Kind.COUNTY_BUREAU and region.level != Region.Level.COUNTY:
                self.add_error("region", "县级市场监管局的区划应为一个县（市、区）。")
        if kind != Organisation.Kind.DEPARTMENT and (
            data.get("managed_categories") or data.get("managed_programmes")
        ):
            self.add_error("managed_categories", "只有省直部门有主管类别和品牌来源。")
        return data


# --- experts -----------------------------------------------------------------------------------


class _ExpertFieldsMixin:
    def _setup_expert_fields(self) -> None:
        fields = self.fields  # type: ignore[attr-defined]
        fields["region"].widget.choices = [("", "请选择"), *selectors.region_choices_by_city()]
        for field in fields.values():
            field.error_messages["required"] = REQUIRED

    def clean_region(self) -> Region:
        return _region_by_code(self.cleaned_data["region"])  # type: ignore[attr-defined]

    def clean_employer_uscc(self) -> str:
        value = self.cleaned_data["employer_uscc"].strip()  # type: ignore[attr-defined]
        return _clean_uscc(value) if value else ""


def _specialities_field() -> forms.ModelMultipleChoiceField:
    return forms.ModelMultipleChoiceField(
        label="专业领域",
        queryset=Category.objects.filter(active=True),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "请至少选择一个专业领域。"},
        help_text="抽取评审专家时按申报品牌的类别匹配；选择大类即覆盖其下各小类。",
    )


class ExpertCreateForm(InlineValidation, _ExpertFieldsMixin, _UsernameMixin, forms.Form):
    username = forms.CharField(
        label="登录用户名", max_length=150, widget=forms.TextInput(attrs={"autocomplete": "off"})
    )
    full_name = forms.CharField(label="姓名", max_length=50)
    password = forms.CharField(
        label="初始密码",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    email = forms.EmailField(
        label="电子邮箱", required=False, error_messages={"invalid": "请输入有效的电子邮箱地址。"}
    )
    phone = forms.CharField(label="手机号码", max_length=20, required=False, validators=[validate_phone])
    employer = forms.CharField(label="工作单位", max_length=100)
    employer_uscc = forms.CharField(
        label="工作单位统一社会信用代码",
        max_length=30,
        required=False,
        help_text="用于回避：专家不评审其工作单位的申报。",
    )
    region = _region_field("所在区划")
    title = forms.ChoiceField(label="职称", choices=ExpertProfile.Title.choices)
    specialities = _specialities_field()

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._setup_expert_fields()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        candidate = User(
            username=data.get("username", ""),
            full_name=data.get("full_name", ""),
            email=data.get("email", ""),
        )
        _check_password(self, "password", candidate)
        return data


class ExpertEditForm(InlineValidation, _ExpertFieldsMixin, forms.Form):
    employer = forms.CharField(label="工作单位", max_length=100)
    employer_uscc = forms.CharField(
        label="工作单位统一社会信用代码",
        max_length=30,
        required=False,
        help_text="用于回避：专家不评审其工作单位的申报。",
    )
    region = _region_field("所在区划")
    title = forms.ChoiceField(label="职称", choices=ExpertProfile.Title.choices)
    specialities = _specialities_field()
    active = forms.BooleanField(label="在库（可被抽取参加评审）", required=False)
    note = forms.CharField(
        label="备注", max_length=300, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._setup_expert_fields()

    @classmethod
    def initial_for(cls, profile: ExpertProfile) -> dict[str, Any]:
        return {
            "employer": profile.employer,
            "employer_uscc": profile.employer_uscc,
            "region": profile.region.code,
            "title": profile.title,
            "specialities": list(profile.specialities.all()),
            "active": profile.active,
            "note": profile.note,
        }
