"""Forms of the office's batch pages, of the public notice and of objections.

They parse and check the shape of the input; the services decide (a batch already running, a
rule set that is not published, a quota on a sub-category, a seed too long, an objection after the
notice ended) and the views show the services' messages next to the fields.
"""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.forms.models import fields_for_model, model_to_dict

from haopin.core.models import Category, Region
from haopin.evaluation import services
from haopin.evaluation.models import Batch, Objection
from haopin.standards.models import RuleSet

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class BatchForm(forms.Form):
    """A batch; once it has opened only the later stages' dates and the notice length change
    (``services.LATER_STAGE_FIELDS``), so the other fields are shown but disabled.

    A plain form with the model's fields: uniqueness and the order of the dates are the
    service's rules, whose messages name the batch that already has the number.
    """

    WIDGETS: dict[str, forms.Widget | type[forms.Widget]] = {
        "apply_from": DATE,
        "apply_until": DATE,
        "recommend_until": DATE,
        "review_until": DATE,
        "description": forms.Textarea(attrs={"rows": 4}),
    }
    HELP = {
        "sequence": "当年的第几批，如 3 表示第三批",
        "title": "如“2025年第三批‘好品山东’品牌评价”",
        "recommend_until": "城市和部门提出推荐意见的截止日期",
        "notice_days": "按工作日计，节假日和调休按国务院安排",
        "reserve_size": "专家回避或拒绝时依次递补",
        "avoid_same_city": "不抽取与申报单位同一城市的专家",
    }

    def __init__(self, *args: Any, instance: Batch | None = None, **kwargs: Any):
        if instance is not None:
            kwargs["initial"] = {
                **model_to_dict(instance, fields=services.BATCH_FIELDS),
                **kwargs.get("initial", {}),
            }
        super().__init__(*args, **kwargs)
        self.fields.update(
            fields_for_model(Batch, fields=services.BATCH_FIELDS, widgets=self.WIDGETS, help_texts=self.HELP)
        )
        if instance is not None and instance.status != Batch.Status.DRAFT:
            for name, field in self.fields.items():
                if name not in services.LATER_STAGE_FIELDS:
                    field.disabled = True
                    field.help_text = "批次开始申报后不能修改。"

    def service_values(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name, field in self.fields.items() if not field.disabled}


class RuleSetChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: RuleSet) -> str:
        return f"{obj.category.name} · {obj.brand_type.name} · {obj.title}（第 {obj.version} 版）"


class RuleSetAttachForm(forms.Form):
    rule_set = RuleSetChoiceField(
        queryset=RuleSet.objects.none(),
        label="评价细则",
        empty_label="请选择已发布的评价细则",
        help_text="每个类别和品牌类型选用一套；批次开始评审后不能更换",
    )

    def __init__(self, *args: Any, batch: Batch, **kwargs: Any):
        super().__init__(*args, **kwargs)
        taken = batch.rule_sets.values("rule_set_id")
        cast(forms.ModelChoiceField, self.fields["rule_set"]).queryset = (
            RuleSet.objects.filter(status=RuleSet.Status.PUBLISHED, category__level=2)
            .exclude(pk__in=taken)
            .select_related("category", "brand_type")
            .order_by("category__code", "brand_type__position", "-version")
        )


class CategoryField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Category) -> str:
        return f"{obj.code} {obj.name}"


class QuotaForm(forms.Form):
    category = CategoryField(
        queryset=Category.objects.filter(level=2, active=True).order_by("code"),
        required=False,
        label="类别",
        empty_label="—",
    )
    city = forms.ModelChoiceField(
        queryset=Region.objects.filter(level=Region.Level.CITY).order_by("code"),
        required=False,
        label="城市",
        empty_label="—",
    )
    limit = forms.IntegerField(
        label="名额", min_value=1, max_value=100000, help_text="类别或城市之一，不能同时填写"
    )


class DrawForm(forms.Form):
    seed = forms.CharField(
        label="随机种子",
        required=False,
        max_length=64,
        help_text="可填写公开摇号等方式产生的数字；留空由系统随机生成。种子和结果一并记录，可复核重现",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    def seed_value(self) -> str | None:
        return self.cleaned_data["seed"].strip() or None


class QuotaDecisionForm(forms.Form):
    admit = forms.TypedChoiceField(
        label="裁定",
        choices=[("yes", "纳入名额"), ("no", "不纳入名额")],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(label="裁定理由", max_length=1000, widget=forms.Textarea(attrs={"rows": 2}))


class ObjectionAnswerForm(forms.Form):
    outcome = forms.ChoiceField(
        label="调查结论",
        choices=[
            (Objection.Status.UPHELD, "异议成立（该品牌不再列入入选名单）"),
            (Objection.Status.DISMISSED, "异议不成立"),
        ],
        widget=forms.RadioSelect,
    )
    answer = forms.CharField(
        label="结论和理由",
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="将告知申报单位；异议人留有电子邮箱的，也将发送给异议人",
    )


class PublicObjectionForm(forms.Form):
    name = forms.CharField(label="姓名或单位名称", max_length=50)
    phone = forms.CharField(
        label="联系电话",
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )
    email = forms.EmailField(
        label="电子邮箱",
        required=False,
        help_text="选填；填写后，处理结果将发送到该邮箱",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    content = forms.CharField(
        label="异议内容",
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="请具体说明事实和理由（不少于 10 个字）",
    )
    evidence = forms.FileField(
        label="证明材料",
        required=False,
        help_text="选填；PDF、JPEG 或 PNG，不超过 10 MB",
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,image/jpeg,image/png"}),
    )


class ObjectionLookupForm(forms.Form):
    number = forms.CharField(
        label="异议编号",
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off", "placeholder": "如 YY2025000001X"}),
    )
