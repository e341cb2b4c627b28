"""Forms of the evaluation's workspace pages: applications (starting, filling in, deciding, the
office's checks) and the experts' declarations and score sheets.

A form parses the input and checks its shape (numbers, choices, required fields); the rules
belong to the services, whose ValidationFailed details are put back next to the fields by
``show_error``. Service detail keys that are not field names (``figures.2024.revenue``,
``scores.1.1``, an indicator code) are translated by each form's ``field_for``.

Inline validation: every widget of a form with ``enable_inline_validation`` posts the whole form
to the page's URL with htmx when it changes; the view answers with that one field re-rendered
(``hx-preserve`` keeps the input the person is typing in). Field names never contain dots, so
that ``#field-<name>`` is a valid CSS selector for htmx.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any, cast

from django import forms
from django.db import models
from django.utils import timezone

from haopin.core.errors import DomainError
from haopin.core.formatting import cn_date
from haopin.core.workflow import NEEDS_LABELS, Transition
from haopin.evaluation.models import Application, Batch, Figure, Score, SelfAssessment
from haopin.registry.models import Brand, Product
from haopin.standards.models import Criterion, Indicator, VetoItem

REQUIRED = "请填写此项。"
UPLOAD_TYPES = "application/pdf,image/jpeg,image/png"


def key_of(code: str) -> str:
    """An indicator code (``1.2``) as a form field suffix (``1_2``)."""
    return code.replace(".", "_")


class InlineValidation:
    """Each widget posts its form to ``validate_url`` with htmx when the field changes."""

    def enable_inline_validation(self, validate_url: str) -> None:
        for name, field in self.fields.items():  # type: ignore[attr-defined]
            if isinstance(field.widget, forms.HiddenInput | forms.ClearableFileInput | forms.FileInput):
                continue
            field.widget.attrs.update(
                {
                    "hx-post": validate_url,
                    "hx-trigger": "change",
                    "hx-target": f"#field-{name}",
                    "hx-swap": "outerHTML",
                    "hx-preserve": "true",
                    # One check at a time per form, in order: an older answer never lands after a
                    # newer one, and dry runs do not contend for the database.
                    "hx-sync": "closest form:queue all",
                }
            )


class ServiceErrors:
    """Puts a domain error's details next to the form's fields (the rest on the form)."""

    def field_for(self, key: str) -> str | None:
        return key if key in self.fields else None  # type: ignore[attr-defined]

    def show_error(self, error: DomainError) -> None:
        """Details about fields go next to them; anything else is said once, by the error's
        message (which names every gap or problem: 申报材料尚不完整，不能提交：…)."""
        unplaced = not error.details
        for key, message in (error.details or {}).items():
            name = self.field_for(str(key))
            if name is None:
                unplaced = True
                continue
            text = "；".join(str(m) for m in message) if isinstance(message, list | tuple) else str(message)
            self.add_error(name, text)  # type: ignore[attr-defined]
        if unplaced:
            self.add_error(None, error.message)  # type: ignore[attr-defined]


class EvaluationForm(InlineValidation, ServiceErrors, forms.Form):
    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            # Django's own "这个字段是必填项。" reads like a system message; keep ours unless a
            # field says something more specific.
            if field.error_messages.get("required") == forms.Field.default_error_messages["required"]:
                field.error_messages["required"] = REQUIRED


# --- starting an application ----------------------------------------------------------------------


class BatchChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Batch) -> str:
        return f"{obj.title}（申报截止 {cn_date(obj.apply_until)}）"


class BrandChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Brand) -> str:
        return f"{obj.name}（{obj.category.name}·{obj.brand_type.name}）"


class StartForm(EvaluationForm):
    """An enterprise (or a regional/GI brand owner) applies for one of its brands."""

    brand = BrandChoiceField(
        label="申报品牌",
        queryset=Brand.objects.none(),
        empty_label="请选择本单位的品牌",
        help_text="适用的评价细则由品牌的类别和类型决定。",
    )
    batch = BatchChoiceField(label="申报批次", queryset=Batch.objects.none(), empty_label="请选择")

    def __init__(self, *args: Any, brands: Any, batches: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["brand"]).queryset = brands
        cast(forms.ModelChoiceField, self.fields["batch"]).queryset = batches
        if not self.is_bound:
            only = list(batches[:2])
            if len(only) == 1:
                self.initial["batch"] = only[0]


class RecommendForm(EvaluationForm):
    """A bureau or department recommends a registry brand; its owner completes the application."""

    batch = BatchChoiceField(label="申报批次", queryset=Batch.objects.none(), empty_label="请选择")
    summary = forms.CharField(
        label="推荐理由",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="将作为申报的“品牌简介与申报理由”初稿，品牌所属单位可以修改。",
    )

    def __init__(self, *args: Any, batches: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["batch"]).queryset = batches
        if not self.is_bound:
            only = list(batches[:2])
            if len(only) == 1:
                self.initial["batch"] = only[0]


# --- filling in ----------------------------------------------------------------------------------

DECLARATION_CHOICES = [("yes", "是"), ("no", "否")]


class ProductChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Product) -> str:
        text = str(obj)
        return f"{text}（{obj.gtin}）" if obj.gtin else text


def _tristate(value: bool | None) -> str:
    return "" if value is None else ("yes" if value else "no")


class DetailsForm(EvaluationForm):
    """The application's text, the covered products, competitors, ranks and declarations."""

    summary = forms.CharField(
        label="品牌简介与申报理由",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="品牌的历史、质量水平、市场地位和申报理由。",
    )
    products = ProductChoiceField(
        label="申报的产品或服务",
        queryset=Product.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="只能选择本品牌已登记的产品或服务；如需增加，请先在品牌登记中登记。",
    )
    competitors = forms.CharField(
        label="主要竞争对手（统一社会信用代码）",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false", "autocomplete": "off"}),
        help_text="每行一个；抽取评审专家时回避这些单位的在职专家。",
    )
    national_rank = forms.IntegerField(
        label="全国细分行业排名",
        required=False,
        min_value=1,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        error_messages={"min_value": "排名须为正整数。", "invalid": "排名须为正整数。"},
    )
    provincial_rank = forms.IntegerField(
        label="全省细分行业排名",
        required=False,
        min_value=1,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        error_messages={"min_value": "排名须为正整数。", "invalid": "排名须为正整数。"},
    )
    credit_clean = forms.ChoiceField(
        label="近三年无严重失信记录（申报人承诺）",
        choices=DECLARATION_CHOICES,
        required=False,
        widget=forms.RadioSelect,
    )
    inspection_clean = forms.ChoiceField(
        label="近三年无产品质量监督抽查不合格记录（申报人承诺）",
        choices=DECLARATION_CHOICES,
        required=False,
        widget=forms.RadioSelect,
    )

    def __init__(self, *args: Any, application: Application, chosen: Iterable[int] = (), **kwargs: Any):
        if not args and "data" not in kwargs:
            kwargs.setdefault(
                "initial",
                {
                    "summary": application.summary,
                    "products": list(chosen),
                    "competitors": "\n".join(application.competitors or []),
                    "national_rank": application.national_rank,
                    "provincial_rank": application.provincial_rank,
                    "credit_clean": _tristate(application.credit_clean),
                    "inspection_clean": _tristate(application.inspection_clean),
                },
            )
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["products"]).queryset = Product.objects.filter(
            brand_id=application.brand_id
        )

    def service_values(self) -> dict[str, Any]:
        data = self.cleaned_data

        def tristate(value: str) -> bool | None:
            return None if not value else value == "yes"

        return {
            "summary": data["summary"],
            "competitors": data["competitors"],
            "national_rank": data["national_rank"],
            "provincial_rank": data["provincial_rank"],
            "credit_clean": tristate(data["credit_clean"]),
            "inspection_clean": tristate(data["inspection_clean"]),
            "products": list(data["products"]),
        }


FIGURE_FIELDS = ["revenue", "profit", "tax", "rd_spend", "export", "employees"]


def figure_label(name: str) -> str:
    return str(cast(models.Field, Figure._meta.get_field(name)).verbose_name)


class FiguresForm(EvaluationForm):
    """Key figures of the three years before the batch year, as a small table (one row a year).

    A row left entirely empty is not sent (nothing is recorded for that year yet); a row with some
    values must be complete, except the export figure, which defaults to 0.
    """

    compact = True  # fields sit in table cells: their labels are for screen readers only

    def __init__(self, *args: Any, years: list[int], figures: Iterable[Figure] = (), **kwargs: Any):
        self.years = years
        existing = {f.year: f for f in figures}
        initial: dict[str, Any] = {}
        for year in years:
            figure = existing.get(year)
            for name in FIGURE_FIELDS:
                initial[self.name(year, name)] = getattr(figure, name) if figure else None
        kwargs.setdefault("initial", initial)
        super().__init__(*args, **kwargs)
        for year in years:
            for name in FIGURE_FIELDS:
                label = f"{year}年{figure_label(name)}"
                if name == "employees":
                    field: forms.Field = forms.IntegerField(
                        label=label,
                        required=False,
                        min_value=0,
                        max_value=10_000_000,
                        widget=forms.NumberInput(attrs={"inputmode": "numeric", "step": "1", "min": "0"}),
                        error_messages={"invalid": "请填写整数。", "min_value": "不能为负数。"},
                    )
                else:
                    attrs = {"inputmode": "decimal", "step": "0.01"}
                    if name != "profit":
                        attrs["min"] = "0"
                    field = forms.DecimalField(
                        label=label,
                        required=False,
                        max_digits=14,
                        decimal_places=2,
                        min_value=None if name == "profit" else Decimal("0"),
                        widget=forms.NumberInput(attrs=attrs),
                        error_messages={
                            "invalid": "请填写数字。",
                            "min_value": "不能为负数。",
                            "max_decimal_places": "最多保留两位小数。",
                            "max_digits": "数值过大。",
                            "max_whole_digits": "数值过大。",
                        },
                    )
                self.fields[self.name(year, name)] = field

    @staticmethod
    def name(year: int, field: str) -> str:
        return f"f_{year}_{field}"

    def rows(self) -> list[tuple[int, list[forms.BoundField]]]:
        return [(year, [self[self.name(year, name)] for name in FIGURE_FIELDS]) for year in self.years]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for year in self.years:
            names = [self.name(year, f) for f in FIGURE_FIELDS]
            if any(n in self.errors for n in names):
                continue
            given = [n for n in names if data.get(n) is not None]
            if not given:
                continue
            for field in FIGURE_FIELDS:
                if field != "export" and data.get(self.name(year, field)) is None:
                    self.add_error(self.name(year, field), f"请填写{year}年的{figure_label(field)}。")
        return data

    def service_values(self) -> list[dict[str, Any]]:
        rows = []
        for year in self.years:
            values = {f: self.cleaned_data.get(self.name(year, f)) for f in FIGURE_FIELDS}
            if all(v is None for v in values.values()):
                continue
            if values["export"] is None:
                values["export"] = Decimal("0")
            rows.append({"year": year, **values})
        return rows

    def field_for(self, key: str) -> str | None:
        # figures.<year>.<field>, figures.<year> and figures
        parts = key.split(".")
        if parts[0] == "figures" and len(parts) == 3 and parts[2] in FIGURE_FIELDS:
            name = self.name(int(parts[1]), parts[2]) if parts[1].isdigit() else ""
            return name if name in self.fields else None
        return None


class SelfAssessmentForm(EvaluationForm):
    """The applicant's own score (0 ≤ score ≤ maximum, one decimal) and note per leaf indicator."""

    compact = True

    def __init__(
        self,
        *args: Any,
        indicators: list[Indicator],
        saved: dict[int, SelfAssessment] | None = None,
        **kwargs: Any,
    ):
        saved = saved or {}
        self.indicators = indicators
        self.saved_codes = {i.code for i in indicators if i.pk in saved}
        initial: dict[str, Any] = {}
        for indicator in indicators:
            entry = saved.get(indicator.pk)
            initial[f"score_{key_of(indicator.code)}"] = entry.score if entry else None
            initial[f"note_{key_of(indicator.code)}"] = entry.note if entry else ""
        kwargs.setdefault("initial", initial)
        super().__init__(*args, **kwargs)
        for indicator in indicators:
            maximum = indicator.max_score
            self.fields[f"score_{key_of(indicator.code)}"] = forms.DecimalField(
                label=f"{indicator.code} {indicator.name} 自评分",
                required=False,
                min_value=Decimal("0"),
                max_value=maximum,
                max_digits=5,
                decimal_places=1,
                widget=forms.NumberInput(
                    attrs={"step": "0.1", "min": "0", "max": format(maximum.normalize(), "f")}
                ),
                error_messages={
                    "invalid": "自评分须为数字。",
                    "min_value": f"自评分应在 0 至 {maximum.normalize():f} 之间。",
                    "max_value": f"自评分应在 0 至 {maximum.normalize():f} 之间。",
                    "max_decimal_places": "自评分最多保留一位小数。",
                    "max_digits": f"自评分应在 0 至 {maximum.normalize():f} 之间。",
                    "max_whole_digits": f"自评分应在 0 至 {maximum.normalize():f} 之间。",
                },
            )
            self.fields[f"note_{key_of(indicator.code)}"] = forms.CharField(
                label=f"{indicator.code} {indicator.name} 自评说明",
                required=False,
                max_length=2000,
                widget=forms.Textarea(attrs={"rows": 2}),
            )

    def rows(self) -> list[tuple[Indicator, forms.BoundField, forms.BoundField]]:
        return [(i, self[f"score_{key_of(i.code)}"], self[f"note_{key_of(i.code)}"]) for i in self.indicators]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for indicator in self.indicators:
            score_name = f"score_{key_of(indicator.code)}"
            if score_name in self.errors or data.get(score_name) is not None:
                continue
            # A saved self-assessment cannot be removed, only changed; a note needs a score.
            if indicator.code in self.saved_codes:
                self.add_error(score_name, "已填写的自评分不能清空，请填写 0 至满分之间的分数。")
            elif (data.get(f"note_{key_of(indicator.code)}") or "").strip():
                self.add_error(score_name, "请填写自评分。")
        return data

    def service_values(self) -> tuple[dict[str, Decimal], dict[str, str]]:
        scores: dict[str, Decimal] = {}
        notes: dict[str, str] = {}
        for indicator in self.indicators:
            score = self.cleaned_data.get(f"score_{key_of(indicator.code)}")
            if score is None:
                continue
            scores[indicator.code] = score
            notes[indicator.code] = self.cleaned_data.get(f"note_{key_of(indicator.code)}") or ""
        return scores, notes

    def field_for(self, key: str) -> str | None:
        if key.startswith("scores."):
            name = f"score_{key_of(key.split('.', 1)[1])}"
            return name if name in self.fields else None
        return super().field_for(key)


class IndicatorChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Indicator) -> str:
        return f"{obj.code} {obj.name}"


class EvidenceForm(EvaluationForm):
    file = forms.FileField(
        label="文件",
        help_text="PDF、JPEG 或 PNG；按文件内容识别类型。",
        widget=forms.ClearableFileInput(attrs={"accept": UPLOAD_TYPES}),
        error_messages={"required": "请选择要上传的文件。", "empty": "上传的文件是空文件。"},
    )
    title = forms.CharField(label="材料名称", required=False, max_length=120, help_text="留空则使用文件名。")
    indicator = IndicatorChoiceField(
        label="对应指标", queryset=Indicator.objects.none(), required=False, empty_label="不对应具体指标"
    )

    def __init__(self, *args: Any, indicators: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["indicator"]).queryset = indicators


class DeclarationForm(EvaluationForm):
    name = forms.CharField(
        label="承诺人姓名",
        max_length=50,
        help_text="申报单位法定代表人或其授权的负责人。",
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    confirm = forms.BooleanField(
        label="本单位承诺：所填申报材料真实、准确、完整，如有虚假，愿意承担相应责任。",
        error_messages={"required": "请勾选承诺。"},
    )

    def field_for(self, key: str) -> str | None:
        return "name" if key == "declaration_signed_by" else super().field_for(key)


# --- decisions and the office's checks -----------------------------------------------------------


class DecisionForm(EvaluationForm):
    """One move of the review: the status the person saw, and the fields the move needs."""

    expected_status = forms.CharField(widget=forms.HiddenInput)
    opinion = forms.CharField(
        label="意见", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
    deadline = forms.DateField(
        label="整改期限",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": "请填写有效日期，如 2025-06-30。"},
    )
    document = forms.FileField(
        label="依据材料",
        required=False,
        help_text="可选；PDF、JPEG 或 PNG。",
        widget=forms.ClearableFileInput(attrs={"accept": UPLOAD_TYPES}),
    )

    def __init__(self, *args: Any, action: str, move: Transition, **kwargs: Any):
        # One form per move on the application's page: the prefix keeps their ids apart.
        super().__init__(*args, prefix=action, **kwargs)
        self.action = action
        self.move = move
        if action == "submit":
            del self.fields["opinion"], self.fields["document"]
        else:
            required = "opinion" in move.needs
            self.fields["opinion"].required = required
            self.fields["opinion"].label = {
                "return": "退回意见（需修改的内容）",
                "reject": "不予通过的理由",
                "withdraw": "撤回原因",
                "recommend": "推荐意见",
            }.get(action, "审查意见")
            if required:
                self.fields["opinion"].error_messages["required"] = (
                    f"执行“{move.label}”时必须填写{NEEDS_LABELS['opinion']}。"
                )
        if "deadline" in move.needs:
            self.fields["deadline"].required = True
            self.fields["deadline"].error_messages["required"] = "请填写整改期限。"
            tomorrow = timezone.localdate() + dt.timedelta(days=1)
            self.fields["deadline"].widget.attrs["min"] = tomorrow.isoformat()
            self.fields["deadline"].help_text = "申报单位须在此日期前修改并重新提交。"
        else:
            del self.fields["deadline"]

    def field_for(self, key: str) -> str | None:
        if key == "file" and "document" in self.fields:
            return "document"
        return key if key in self.fields and key != "expected_status" else None


class CriterionCheckForm(EvaluationForm):
    met = forms.ChoiceField(
        label="审查结论",
        choices=[("yes", "满足"), ("no", "不满足")],
        widget=forms.RadioSelect,
        error_messages={"required": "请选择是否满足。"},
    )
    note = forms.CharField(label="说明", required=False, max_length=300)

    def __init__(self, *args: Any, criterion: Criterion, **kwargs: Any):
        super().__init__(*args, prefix=f"c{criterion.pk}", **kwargs)
        self.criterion = criterion
        if criterion.is_automatic:
            self.fields["note"].required = True
            self.fields["note"].error_messages["required"] = "申报材料缺少该项数据，人工认定时须说明依据。"
            self.fields["note"].help_text = "申报材料缺少该项数据，请说明认定依据。"


class VetoItemChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: VetoItem) -> str:
        return f"{obj.code} {obj.text}"


class VetoRaiseForm(EvaluationForm):
    veto_item = VetoItemChoiceField(label="否决项", queryset=VetoItem.objects.none(), empty_label="请选择")
    note = forms.CharField(
        label="情况说明",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="发现的事实、时间和来源。",
    )
    document = forms.FileField(
        label="证明材料",
        required=False,
        help_text="可选；PDF、JPEG 或 PNG。",
        widget=forms.ClearableFileInput(attrs={"accept": UPLOAD_TYPES}),
    )

    def __init__(self, *args: Any, veto_items: Any, allow_document: bool = True, **kwargs: Any):
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["veto_item"]).queryset = veto_items
        if not allow_document:
            del self.fields["document"]


class VetoResolveForm(EvaluationForm):
    outcome = forms.ChoiceField(
        label="核实结论",
        choices=[("confirm", "属实，确认否决"), ("dismiss", "不成立")],
        widget=forms.RadioSelect,
        error_messages={"required": "请选择核实结论。"},
    )
    resolution = forms.CharField(label="核实意见", max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, finding_id: int, **kwargs: Any):
        super().__init__(*args, prefix=f"v{finding_id}", **kwargs)


# --- experts ---------------------------------------------------------------------------------------


class ConflictForm(EvaluationForm):
    note = forms.CharField(
        label="利益冲突情况",
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="如：曾在申报单位任职、近三年为其提供咨询、与其负责人有亲属关系。",
    )


class DeclineForm(EvaluationForm):
    note = forms.CharField(
        label="不能参加的原因",
        required=False,
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ScoreSheetForm(EvaluationForm):
    """An expert's score and comment for every leaf indicator of the application's rule set."""

    compact = True

    def __init__(self, *args: Any, rows: list[tuple[Indicator, Score | None]], **kwargs: Any):
        self.indicators = [indicator for indicator, _ in rows]
        self.saved_codes = {indicator.code for indicator, score in rows if score is not None}
        initial: dict[str, Any] = {}
        for indicator, score in rows:
            initial[f"score_{key_of(indicator.code)}"] = score.score if score else None
            initial[f"comment_{key_of(indicator.code)}"] = score.comment if score else ""
        kwargs.setdefault("initial", initial)
        super().__init__(*args, **kwargs)
        for indicator in self.indicators:
            maximum = format(indicator.max_score.normalize(), "f")
            between = f"分数须在 0 至 {maximum} 之间。"
            self.fields[f"score_{key_of(indicator.code)}"] = forms.DecimalField(
                label=f"{indicator.code} {indicator.name} 得分",
                required=False,
                min_value=Decimal("0"),
                max_value=indicator.max_score,
                max_digits=5,
                decimal_places=1,
                widget=forms.NumberInput(attrs={"step": "0.1", "min": "0", "max": maximum}),
                error_messages={
                    "invalid": f"请填写 0 至 {maximum} 之间的分数。",
                    "min_value": between,
                    "max_value": between,
                    "max_decimal_places": "分数最多保留一位小数。",
                    "max_digits": between,
                    "max_whole_digits": between,
                },
            )
            self.fields[f"comment_{key_of(indicator.code)}"] = forms.CharField(
                label=f"{indicator.code} {indicator.name} 评语",
                required=False,
                max_length=2000,
                widget=forms.Textarea(attrs={"rows": 2}),
            )

    def rows(self) -> list[tuple[Indicator, forms.BoundField, forms.BoundField]]:
        return [
            (i, self[f"score_{key_of(i.code)}"], self[f"comment_{key_of(i.code)}"]) for i in self.indicators
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for indicator in self.indicators:
            score_name = f"score_{key_of(indicator.code)}"
            comment_name = f"comment_{key_of(indicator.code)}"
            score = data.get(score_name)
            comment = (data.get(comment_name) or "").strip()
            if score_name in self.errors:
                continue
            if score is None and indicator.code in self.saved_codes:
                self.add_error(score_name, "已保存的分数不能清空，请填写分数。")
            elif score is None and comment:
                self.add_error(score_name, "请填写分数。")
            elif score is not None and not comment:
                self.add_error(comment_name, "请填写评语。")
        return data

    def service_values(self) -> dict[str, dict[str, Any]]:
        values: dict[str, dict[str, Any]] = {}
        for indicator in self.indicators:
            score = self.cleaned_data.get(f"score_{key_of(indicator.code)}")
            if score is None:
                continue
            values[indicator.code] = {
                "score": score,
                "comment": self.cleaned_data.get(f"comment_{key_of(indicator.code)}") or "",
            }
        return values

    def field_for(self, key: str) -> str | None:
        # scores_save reports by indicator code; a missing comment belongs to the comment field.
        name = f"score_{key_of(key)}"
        return name if name in self.fields else super().field_for(key)

    def show_error(self, error: DomainError) -> None:
        unplaced = not error.details
        for key, message in (error.details or {}).items():
            name = self.field_for(str(key))
            if name is None:
                unplaced = True
                continue
            if "评语" in str(message):
                name = name.replace("score_", "comment_", 1)
            self.add_error(name, str(message))
        if unplaced:
            self.add_error(None, error.message)
