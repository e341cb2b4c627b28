"""Forms of the standards catalogue and the rule-set editor.

As in the registry, forms only parse and check the shape of the input; the services decide
(a duplicate code, an indicator under another indicator, an automatic criterion without a
comparison, a frozen rule set) and the views put their messages next to the fields. Item forms
carry a prefix, so that the three "add" forms of the editor page can live side by side and each
field's inline check (htmx) finds its own wrapper.
"""

from __future__ import annotations

from typing import Any, cast

from django import forms

from haopin.core.models import BrandType, Category
from haopin.standards import services
from haopin.standards.models import Criterion, Indicator, RuleSet, Standard, VetoItem

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class LevelTwoCategoryField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Category) -> str:
        return f"{obj.code} {obj.name}"


class CategoriesField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Category) -> str:
        return ("　　" if obj.level >= 3 else "") + obj.name


class StandardChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Standard) -> str:
        return f"{obj.code} {obj.title}"


# --- the catalogue ------------------------------------------------------------------------------


class StandardForm(forms.ModelForm):
    class Meta:
        model = Standard
        fields = ["code", *services.STANDARD_FIELDS, "categories"]
        widgets = {
            "code": forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
            "published_on": DATE,
            "effective_on": DATE,
            "withdrawn_on": DATE,
        }
        help_texts = {
            "code": "如 GB/T 19001-2016、DB37/T 1234-2020、T/SDAQI 001-2022；登记后不可修改",
            "is_haopin": "由“好品山东”团体标准组织发布的团体标准",
        }

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        editing = self.instance.pk is not None
        if editing:
            del self.fields["code"]
        else:
            # The service derives the level from the code (GB → national, DB → local, …).
            self.fields["level"].required = False
            cast(forms.ChoiceField, self.fields["level"]).choices = [
                ("", "按标准编号自动判断"),
                *Standard.Level.choices,
            ]
        others = Standard.objects.order_by("code")
        if editing:
            others = others.exclude(pk=self.instance.pk)
        self.fields["replaced_by"] = StandardChoiceField(
            queryset=others,
            required=False,
            label="代替标准",
            empty_label="无",
            help_text="状态为“被代替”时，选择代替它的新标准",
        )
        self.fields["categories"] = CategoriesField(
            queryset=Category.objects.filter(level__gte=2, active=True).order_by("code"),
            required=False,
            label="适用类别",
            help_text="可多选（按住 Ctrl 或 Command 键）",
            widget=forms.SelectMultiple(attrs={"size": 10}),
        )

    def service_values(self) -> dict[str, Any]:
        values = {name: self.cleaned_data[name] for name in services.STANDARD_FIELDS if name in self.fields}
        if not values.get("level"):
            values.pop("level", None)
        return values


class PdfForm(forms.Form):
    file = forms.FileField(
        label="标准文本",
        help_text="PDF 文件；上传后替换原有文本",
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf"}),
    )


# --- rule sets ----------------------------------------------------------------------------------


class RuleSetCreateForm(forms.ModelForm):
    start = forms.ChoiceField(
        label="初始内容",
        choices=[
            ("model", "按示范细则预填（六个一级指标、否决项和资格条件，可再修改）"),
            ("empty", "空白细则"),
        ],
        initial="model",
        widget=forms.RadioSelect,
    )

    class Meta:
        model = RuleSet
        fields = ["category", "brand_type", "title", "pass_line", "note"]
        widgets = {"note": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["category"] = LevelTwoCategoryField(
            queryset=Category.objects.filter(level=2, active=True).order_by("code"),
            label="适用类别",
            empty_label="请选择类别",
            help_text="评价细则按二级类别设置；批次按类别和品牌类型选用",
        )
        cast(forms.ModelChoiceField, self.fields["brand_type"]).queryset = BrandType.objects.all()
        cast(forms.ModelChoiceField, self.fields["brand_type"]).empty_label = "请选择品牌类型"

    def service_values(self) -> dict[str, Any]:
        return {
            name: self.cleaned_data[name] for name in ("category", "brand_type", "title", "pass_line", "note")
        }


class RuleSetForm(forms.ModelForm):
    class Meta:
        model = RuleSet
        fields = ["title", "pass_line", "note"]
        widgets = {"note": forms.Textarea(attrs={"rows": 3})}
        help_texts = {"pass_line": "综合得分达到此分数线为合格（满分 100）"}

    def service_values(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class ImportForm(forms.Form):
    file = forms.FileField(
        label="评价细则文件",
        help_text="Excel（.xlsx），格式与“导出 Excel”相同：细则、指标、否决项、资格条件四个工作表",
        widget=forms.ClearableFileInput(
            attrs={"accept": ".xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
        ),
    )


class ItemForm(forms.ModelForm):
    """An indicator, veto item or criterion of a draft; ``kind`` names the service's item kind."""

    kind = ""

    def __init__(self, *args: Any, rule_set: RuleSet, **kwargs: Any):
        kwargs.setdefault("prefix", self.kind)
        super().__init__(*args, **kwargs)
        self.rule_set = rule_set
        if self.instance.pk is None:
            self.instance.rule_set = rule_set
            self.initial["position"] = None  # empty: after the last item
        self.fields["position"].required = False
        self.fields["position"].help_text = "同级之间的排列顺序，留空排在最后"

    def service_values(self) -> dict[str, Any]:
        values = {name: self.cleaned_data[name] for name in services.ITEM_FIELDS[self.kind]}
        if values.get("position") is None:
            if self.instance.pk is None:
                values["position"] = self.next_position()
            else:
                values.pop("position")
        return values

    def next_position(self) -> int:
        model = services.ITEM_MODELS[self.kind]
        last = model.objects.filter(rule_set=self.rule_set).order_by("-position").first()
        return (last.position if last else 0) + 1


class IndicatorForm(ItemForm):
    kind = "indicator"

    class Meta:
        model = Indicator
        fields = services.ITEM_FIELDS["indicator"]
        widgets = {"guidance": forms.Textarea(attrs={"rows": 2})}
        help_texts = {"code": "如 1 或 1.2", "max_score": "一级指标为各二级指标分值之和，满分合计 100"}

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        dimensions = Indicator.objects.filter(rule_set=self.rule_set, parent__isnull=True).order_by(
            "position", "code"
        )
        if self.instance.pk is not None:
            dimensions = dimensions.exclude(pk=self.instance.pk)
        cast(forms.ModelChoiceField, self.fields["parent"]).queryset = dimensions
        self.fields["parent"].label = "上级指标"
        cast(forms.ModelChoiceField, self.fields["parent"]).empty_label = "无（一级指标）"
        self.fields["parent"].required = False


class VetoItemForm(ItemForm):
    kind = "veto"

    class Meta:
        model = VetoItem
        fields = services.ITEM_FIELDS["veto"]
        help_texts = {"code": "如 F1"}


class CriterionForm(ItemForm):
    kind = "criterion"

    class Meta:
        model = Criterion
        fields = services.ITEM_FIELDS["criterion"]
        help_texts = {
            "code": "如 Z1",
            "threshold": "金额以万元计，比例以 % 计，排名为名次；“是”类条件不填",
        }

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["metric"]).choices = [("", "人工判定"), *Criterion.Metric.choices]
        cast(forms.ChoiceField, self.fields["operator"]).choices = [("", "—"), *Criterion.Operator.choices]


ITEM_FORMS: dict[str, type[ItemForm]] = {
    "indicator": IndicatorForm,
    "veto": VetoItemForm,
    "criterion": CriterionForm,
}
ITEM_LABELS = {"indicator": "评价指标", "veto": "否决项", "criterion": "资格条件"}
