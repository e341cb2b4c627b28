"""Forms of the registry's workspace pages.

A form parses the input and checks its shape: types, choices, required fields and the model
fields' own validators (the credit code's and the GTIN's check characters, standard codes,
phone numbers, uniqueness of a credit code or a GTIN). The rules belong to the services: views
never call ``form.save()``; they pass ``form.service_values()`` to a service and put the
details of its ValidationFailed next to the fields (``show_error``).

Inline validation runs the very same service in a transaction that is always rolled back
(``dry_run``), so that the answer on change is the answer the submit will give (duplicates,
the scope of a bureau or department, the office-only tier) without a second set of rules.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.db import transaction

from haopin.core.errors import DomainError
from haopin.core.models import BrandType, Category, Region, SourceProgramme, Tier
from haopin.core.policies import ScopeKind, scope_of
from haopin.registry import policies, services
from haopin.registry.models import Brand, Document, Enterprise, Product
from haopin.registry.validation import (
    normalise_gtin,
    normalise_standard_codes,
    normalise_trademarks,
    normalise_uscc,
)


class _Rollback(Exception):
    """Raised inside ``dry_run`` to undo what the service wrote."""


def dry_run(call: Callable[[], Any]) -> None:
    """Run a service and roll back everything it wrote (rows and audit events).

    Domain errors propagate to the caller. Services that store files (uploads) must not be
    dry-run: a file on disk is not part of the transaction.
    """
    try:
        with transaction.atomic():
            call()
            raise _Rollback
    except _Rollback:
        pass


def show_error(form: forms.BaseForm, error: DomainError, *, non_field_to: str | None = None) -> None:
    """Put a service's error details next to the form's fields.

    Details about fields the form does not show (and errors without details) become errors of
    the form as a whole. ``non_field_to`` names the field that model-level errors belong to
    (both registry constraints on brands and products are about a duplicate name).
    """
    placed = False
    for key, message in (error.details or {}).items():
        target = non_field_to if key == "__all__" and non_field_to else key
        if target in form.fields and not form.fields[target].disabled:
            form.add_error(target, message)
            placed = True
        elif key == "__all__" or target not in form.fields:
            form.add_error(None, message)
            placed = True
    if not placed:
        form.add_error(None, error.message)


class RegionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Region) -> str:
        return obj.full_name


class CategoryChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Category) -> str:
        # Sub-categories are indented under their category (the list is ordered by code).
        return ("　　" if obj.level >= 3 else "") + obj.name


def _regions_for(user: Any, levels: tuple[str, ...]) -> Any:
    """Regions a user may pick: a bureau only within its own region's subtree."""
    qs = Region.objects.filter(level__in=levels, active=True).select_related("parent")
    scope = scope_of(user)
    if scope.kind == ScopeKind.REGION:
        qs = qs.filter(code__startswith=scope.region_prefix)
    return qs


class ServiceForm(forms.ModelForm):
    """A model form whose values go to a service; ``service_fields`` are the ones passed on."""

    service_fields: list[str] = []

    def service_values(self) -> dict[str, Any]:
        return {
            name: self.cleaned_data[name]
            for name in self.service_fields
            if name in self.fields and not self.fields[name].disabled
        }


# --- enterprises -------------------------------------------------------------------------------


class EnterpriseForm(ServiceForm):
    service_fields = services.ENTERPRISE_FIELDS

    class Meta:
        model = Enterprise
        fields = ["uscc", *services.ENTERPRISE_FIELDS]
        widgets = {
            "founded_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "address": forms.TextInput(),
            "contact_phone": forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
            "uscc": forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        }
        help_texts = {"uscc": "18 位，登记后不可修改", "region": "企业住所所在的县（市、区）"}

    def __init__(self, *args: Any, user: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.user = user
        editing = self.instance.pk is not None
        self.fields["region"] = RegionChoiceField(
            queryset=_regions_for(user, ("county",)),
            label="所在区划",
            help_text=cast(dict[str, str], self._meta.help_texts)["region"],
            empty_label="请选择县（市、区）",
        )
        if editing:
            # The credit code identifies the enterprise; it is not changed by an edit.
            del self.fields["uscc"]
            if not policies.enterprise_within_scope(user, region_code=self.instance.region.code) or (
                scope_of(user).kind == ScopeKind.ORGANISATION
            ):
                # Moving an enterprise to another region is for the office (services say so).
                self.fields["region"].disabled = True
                cast(forms.ModelChoiceField, self.fields["region"]).queryset = Region.objects.filter(
                    pk=self.instance.region_id
                )
                self.fields["region"].help_text = "迁移所在区划请联系省质量强省办。"

    def clean_uscc(self) -> str:
        value = self.cleaned_data["uscc"]
        try:
            return normalise_uscc(value)
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages[0]) from exc


# --- brands ------------------------------------------------------------------------------------


class BrandForm(ServiceForm):
    service_fields = [*services.BRAND_FIELDS, "status"]

    owner_uscc = forms.CharField(
        label="品牌主体统一社会信用代码",
        max_length=30,
        help_text="输入已登记企业的统一社会信用代码",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    trademark_numbers = forms.CharField(
        label="注册商标号",
        required=False,
        max_length=500,
        help_text="多个注册号用逗号或空格分隔",
    )

    class Meta:
        model = Brand
        fields = [*services.BRAND_FIELDS, "status"]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 4}),
            "description_en": forms.Textarea(attrs={"rows": 3}),
        }

    field_order = ["owner_uscc", "name", "name_en", "brand_type", "category", "region", "tier", "status"]

    def __init__(self, *args: Any, user: Any, owner: Enterprise | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.user = user
        self.owner = owner or (self.instance.owner if self.instance.pk else None)
        editing = self.instance.pk is not None
        office = scope_of(user).kind == ScopeKind.ALL and scope_of(user).can_write
        if self.owner is not None:
            del self.fields["owner_uscc"]
        cast(forms.ModelChoiceField, self.fields["brand_type"]).queryset = BrandType.objects.all()
        cast(forms.ModelChoiceField, self.fields["brand_type"]).empty_label = "请选择"
        self.fields["category"] = CategoryChoiceField(
            queryset=Category.objects.filter(level__gte=2, active=True).order_by("code"),
            label="所属类别",
            empty_label="请选择类别",
        )
        self.fields["region"] = RegionChoiceField(
            queryset=_regions_for(user, ("province", "city", "county")),
            label="所属区划",
            required=editing,
            empty_label="与品牌主体所在区划相同" if not editing else "请选择",
            help_text="区域品牌、产业品牌和地理标志品牌填写其覆盖的区划；其他品牌为品牌主体所在区划。",
        )
        if office:
            cast(forms.ModelChoiceField, self.fields["tier"]).queryset = Tier.objects.all()
            cast(forms.ModelChoiceField, self.fields["tier"]).empty_label = None
        else:
            # Tiers and statuses follow evaluation and supervision: only the office sets them.
            del self.fields["tier"]
            del self.fields["status"]
        if not editing and "status" in self.fields:
            del self.fields["status"]
        if editing:
            self.initial["trademark_numbers"] = "，".join(self.instance.trademark_numbers or [])
        if not editing and "tier" in self.fields and not self.initial.get("tier"):
            self.initial["tier"] = Tier.objects.filter(code="pool").first()

    def clean_owner_uscc(self) -> str:
        value = self.cleaned_data["owner_uscc"]
        try:
            uscc = normalise_uscc(value)
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages[0]) from exc
        owner = policies.enterprise_for_new_brand(self.user, uscc=uscc)
        if owner is None:
            raise forms.ValidationError(
                "没有找到该统一社会信用代码的企业，或您无权为该企业登记品牌；请先登记企业。"
            )
        self.owner = owner
        self.instance.owner = owner
        return uscc

    def clean_trademark_numbers(self) -> list[str]:
        try:
            return normalise_trademarks(self.cleaned_data["trademark_numbers"] or "")
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages[0]) from exc

    def service_values(self) -> dict[str, Any]:
        values = super().service_values()
        if not values.get("region"):
            values.pop("region", None)
        if "tier" not in self.fields and self.instance.pk is None:
            # New brands enter the cultivation pool (the services refuse any other tier
            # from anyone but the office).
            values["tier"] = Tier.objects.get(code="pool")
        return values


class BrandSourceForm(forms.Form):
    programme = forms.ModelChoiceField(
        label="来源项目",
        queryset=SourceProgramme.objects.filter(active=True),
        empty_label="请选择",
    )
    certificate_number = forms.CharField(label="证书编号或认定文号", max_length=60, required=False)
    year = forms.IntegerField(
        label="认定年份",
        required=False,
        min_value=1950,
        max_value=2100,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        error_messages={
            "min_value": "请填写四位年份，如 2021。",
            "max_value": "请填写四位年份，如 2021。",
            "invalid": "请填写四位年份，如 2021。",
        },
    )
    file = forms.FileField(
        label="证明文件",
        required=False,
        help_text="PDF、JPEG 或 PNG；不选择文件则保留原有证明文件",
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,image/jpeg,image/png"}),
    )


class LogoForm(forms.Form):
    file = forms.FileField(
        label="品牌标识图片",
        help_text="PNG 或 JPEG 图片",
        widget=forms.ClearableFileInput(attrs={"accept": "image/png,image/jpeg"}),
    )


class DocumentForm(forms.Form):
    purpose = forms.ChoiceField(
        label="用途",
        choices=[
            (Document.Purpose.LICENCE, Document.Purpose.LICENCE.label),
            (Document.Purpose.EVIDENCE, Document.Purpose.EVIDENCE.label),
            (Document.Purpose.OTHER, Document.Purpose.OTHER.label),
        ],
    )
    title = forms.CharField(label="标题", max_length=120, required=False, help_text="留空则使用文件名")
    file = forms.FileField(label="文件", help_text="PDF、JPEG、PNG 或 Excel（.xlsx）")


# --- products ----------------------------------------------------------------------------------


class ProductForm(ServiceForm):
    service_fields = services.PRODUCT_FIELDS

    standard_codes = forms.CharField(
        label="执行标准",
        required=False,
        max_length=500,
        help_text="如 GB/T 19001-2016、DB37/T 1234、T/SDAQI 001；多个用逗号或分号分隔",
    )
    gtin = forms.CharField(
        label="商品条码（GTIN）",
        required=False,
        empty_value=None,
        max_length=20,
        help_text="8、12、13 或 14 位数字，含校验位",
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )

    class Meta:
        model = Product
        fields = services.PRODUCT_FIELDS
        widgets = {"description": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args: Any, user: Any, brand: Brand, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.user = user
        self.brand = brand
        self.instance.brand = brand
        if self.instance.pk:
            self.initial["standard_codes"] = "；".join(self.instance.standard_codes or [])

    def clean_standard_codes(self) -> list[str]:
        try:
            return normalise_standard_codes(self.cleaned_data["standard_codes"] or "")
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages[0]) from exc

    def clean_gtin(self) -> str | None:
        value = self.cleaned_data["gtin"]
        if not value:
            return None
        try:
            return normalise_gtin(value)
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages[0]) from exc
