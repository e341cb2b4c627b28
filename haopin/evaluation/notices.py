"""The public notice (公示) of a batch's candidates and the objections (异议) lodged against them.

The notice runs for ``batch.notice_days`` working days of the PRC calendar (``calendar``),
starting today when today is a working day, else on the next one. Anyone may lodge an objection
against a candidate while it runs — from the portal, without an account — with a name and a
phone number (private: only the provincial office sees them; ``objections_public`` shows the
number, the candidate and the status) and optional evidence. The office answers each one,
upheld or dismissed with reasons; an upheld objection removes the candidate (the review's
``reject`` move). The periodic ``manage.py tick`` closes notices whose last day has passed and
sends the review's deadline reminders (``return_deadline_reminders_send``). The batch cannot be
published while ``notice_unresolved`` names a reason.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import IO, Any

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from haopin.core import audit, context, numbering
from haopin.core.errors import (
    ConflictError,
    DomainError,
    NotFoundError,
    PermissionDeniedError,
    ValidationFailed,
)
from haopin.core.formatting import cn_date
from haopin.core.policies import scope_of
from haopin.evaluation import calendar, policies
from haopin.evaluation.models import Application, Batch, Objection, PublicNotice
from haopin.notifications import links
from haopin.notifications import selectors as recipients
from haopin.notifications.models import Notification
from haopin.notifications.services import email_person, notify
from haopin.registry import uploads
from haopin.registry.validation import validate_phone

A = Application.Status

# Anonymous lodging per client address: generous for a person, tight for a script.
LODGE_LIMIT = 5
LODGE_WINDOW_SECONDS = 3600
EVIDENCE_TYPES = {uploads.PDF, uploads.JPEG, uploads.PNG}
EVIDENCE_MAX_MB = 10
CONTENT_MIN, CONTENT_MAX = 10, 5000
# Applicants are reminded this many days before their correction deadline.
DEADLINE_REMINDER_DAYS = 3
DEADLINE_REMINDER_KIND = "evaluation.return_deadline"

_DIGITS = "零一二三四五六七八九"


class RateLimited(DomainError):
    status = 429
    code = "rate_limited"


def cn_numeral(n: int) -> str:
    """1 → 一, 10 → 十, 23 → 二十三 (batch sequences are small)."""
    if n < 10:
        return _DIGITS[n]
    tens, ones = divmod(n, 10)
    if n < 100:
        return ("" if tens == 1 else _DIGITS[tens]) + "十" + (_DIGITS[ones] if ones else "")
    return str(n)


def notice_title(batch: Batch) -> str:
    return f"关于{batch.year}年第{cn_numeral(batch.sequence)}批“好品山东”品牌拟入选名单的公示"


def notice_body(batch: Batch, *, starts_on: dt.date, ends_on: dt.date, count: int) -> str:
    return (
        f"根据“好品山东”品牌评价工作安排，经申报推荐、资格审查、舆情与信用核查、专家评审、征求意见和结果审定，"
        f"{batch.year}年第{cn_numeral(batch.sequence)}批共有{count}个品牌拟入选“好品山东”品牌，现予以公示。\n\n"
        f"公示期为{cn_date(starts_on)}至{cn_date(ends_on)}（{batch.notice_days}个工作日）。"
        "公示期间，任何单位和个人对拟入选品牌有异议的，可通过本平台对具体品牌提出异议，"
        "须如实填写姓名和联系电话，并说明事实和理由、提供必要的证明材料。"
        "异议人的联系方式仅供核查使用，予以保密。匿名、逾期或无具体事实的异议不予受理。\n\n"
        "山东省质量强省工作领导小组办公室"
    )


def _require_office(actor: Any, message: str) -> None:
    if not policies.is_office(actor):
        raise PermissionDeniedError(message)


def _applicant_users(application: Application) -> QuerySet:
    return recipients.members_of([application.enterprise.organisation_id])


# --- the notice ---------------------------------------------------------------------------------


@transaction.atomic
def notice_open(*, actor: Any, batch: Batch, starts_on: dt.date | None = None) -> PublicNotice:
    """Publish the batch's candidate list and move every approved application into the notice.

    Called by the batch's ``open_notice`` move (before or after the batch's own status change,
    inside the same transaction). ``starts_on`` defaults to today when today is a working day,
    else the next working day; the period ends after ``batch.notice_days`` working days.
    """
    from haopin.evaluation.services import application_move

    _require_office(actor, "只有省质量强省办可以发布公示。")
    batch = Batch.objects.select_for_update().get(pk=batch.pk)
    if batch.status not in {Batch.Status.REVIEWING, Batch.Status.NOTICE}:
        raise ConflictError(
            f"批次当前状态为“{batch.get_status_display()}”，不能发布公示。", code="batch_not_reviewing"
        )
    if PublicNotice.objects.filter(batch=batch).exists():
        raise ConflictError("该批次已发布过公示。", code="notice_exists")
    candidates = list(
        Application.objects.select_related("brand", "enterprise")
        .filter(batch=batch, status=A.APPROVED)
        .order_by("number")
    )
    if not candidates:
        raise ValidationFailed("该批次没有审定通过、待公示的申报。", code="no_candidates")
    today = timezone.localdate()
    starts_on = starts_on or calendar.next_working_day(today)
    if starts_on < today:
        raise ValidationFailed("公示开始日期不能早于今天。", details={"starts_on": "不能早于今天。"})
    if not calendar.is_working_day(starts_on):
        raise ValidationFailed(
            f"{cn_date(starts_on)}不是工作日，公示应从工作日开始。", details={"starts_on": "应为工作日。"}
        )
    ends_on = calendar.add_working_days(starts_on, batch.notice_days - 1)
    title = notice_title(batch)
    notice = PublicNotice.objects.create(
        batch=batch,
        title=title,
        body=notice_body(batch, starts_on=starts_on, ends_on=ends_on, count=len(candidates)),
        starts_on=starts_on,
        ends_on=ends_on,
    )
    opinion = f"列入《{title}》，公示期{cn_date(starts_on)}至{cn_date(ends_on)}。"
    for application in candidates:
        application_move(application=application, action="open_notice", actor=actor, opinion=opinion)
    audit.record(
        "evaluation.notice.opened",
        target=notice,
        actor=actor,
        new={
            "batch": batch.pk,
            "title": title,
            "starts_on": starts_on,
            "ends_on": ends_on,
            "working_days": batch.notice_days,
            "candidates": [a.number for a in candidates],
        },
    )
    for application in candidates:
        notify(
            users=_applicant_users(application),
            kind="evaluation.notice_opened",
            title=f"“{application.brand.name}”已列入拟入选名单并进入公示",
            body=f"您的申报（{application.number}）已列入《{title}》，公示期{cn_date(starts_on)}至"
            f"{cn_date(ends_on)}。公示期间如收到异议，省质量强省办将调查核实后答复。",
            url=links.url_of(application),
        )
    return notice


def notice_close(*, notice: PublicNotice, today: dt.date | None = None) -> bool:
    """End a notice whose last day has passed. Idempotent and safe to run concurrently: the
    status flips by compare-and-set, and only the caller that flipped it records and notifies.
    Returns whether this call closed it."""
    today = today or timezone.localdate()
    current = PublicNotice.objects.select_related("batch").get(pk=notice.pk)
    if current.status != PublicNotice.Status.OPEN:
        return False
    if current.ends_on >= today:
        raise ValidationFailed(f"公示期至{cn_date(current.ends_on)}，尚未结束。", code="notice_running")
    with transaction.atomic():
        closed = PublicNotice.objects.filter(pk=current.pk, status=PublicNotice.Status.OPEN).update(
            status=PublicNotice.Status.CLOSED, closed_at=timezone.now()
        )
        if not closed:
            return False
        counts = current.objections.aggregate(
            total=Count("pk"), open=Count("pk", filter=Q(status=Objection.Status.OPEN))
        )
        audit.record(
            "evaluation.notice.closed",
            target=current,
            old={"status": PublicNotice.Status.OPEN},
            new={
                "status": PublicNotice.Status.CLOSED,
                "ends_on": current.ends_on,
                "objections": counts["total"],
                "objections_open": counts["open"],
            },
        )
        pending = f"，其中{counts['open']}件尚待答复" if counts["open"] else ""
        notify(
            users=recipients.office_staff(),
            kind="evaluation.notice_closed",
            title=f"{current.title}已结束",
            body=f"公示期已于{cn_date(current.ends_on)}届满，共收到异议{counts['total']}件{pending}。",
            url=links.url_of(current.batch),
        )
    notice.status = PublicNotice.Status.CLOSED
    return True


def notices_close_ended(*, today: dt.date | None = None) -> list[PublicNotice]:
    """Close every open notice whose last day is before ``today`` (the tick's job)."""
    today = today or timezone.localdate()
    closed = []
    for notice in PublicNotice.objects.filter(status=PublicNotice.Status.OPEN, ends_on__lt=today):
        if notice_close(notice=notice, today=today):
            closed.append(notice)
    return closed


def notice_unresolved(batch: Batch, *, today: dt.date | None = None) -> list[str]:
    """Why the batch's results cannot be published yet (empty when they can)."""
    today = today or timezone.localdate()
    notice = PublicNotice.objects.filter(batch=batch).first()
    if notice is None:
        return ["尚未发布公示。"]
    reasons = []
    if notice.status == PublicNotice.Status.OPEN:
        if notice.ends_on >= today:
            reasons.append(f"公示期至{cn_date(notice.ends_on)}，尚未结束。")
        else:
            reasons.append(
                f"公示期已于{cn_date(notice.ends_on)}届满，系统正在结束公示（定时任务每10分钟运行一次）。"
            )
    waiting = list(
        notice.objections.filter(status=Objection.Status.OPEN)
        .order_by("number")
        .values_list("number", flat=True)
    )
    if waiting:
        reasons.append(f"有{len(waiting)}件异议尚未答复：{'、'.join(waiting)}。")
    return reasons


# --- objections -----------------------------------------------------------------------------------


def _client_key(client: str) -> str:
    digest = hashlib.sha256((client or "unknown").encode()).hexdigest()[:32]
    return f"haopin:objection-lodge:{digest}"


def _check_rate(client: str) -> None:
    """At most LODGE_LIMIT objections per client address per window (shared cache: Redis in
    production, so every app server counts the same)."""
    key = _client_key(client)
    cache.add(key, 0, timeout=LODGE_WINDOW_SECONDS)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=LODGE_WINDOW_SECONDS)
        count = 1
    if count > LODGE_LIMIT:
        raise RateLimited(f"提交过于频繁：同一网络地址每小时最多提交{LODGE_LIMIT}件异议，请稍后再试。")


def _clean_lodging(name: str, phone: str, email: str, content: str) -> tuple[str, str, str, str]:
    details: dict[str, str] = {}
    name = " ".join((name or "").split())
    phone = "".join((phone or "").split())
    email = (email or "").strip()
    content = (content or "").strip()
    if not name:
        details["name"] = "请填写真实姓名或单位名称。"
    elif len(name) > 50:
        details["name"] = "姓名不能超过50个字。"
    if not phone:
        details["phone"] = "请填写联系电话，以便核实情况。"
    else:
        try:
            validate_phone(phone)
        except ValidationError as exc:
            details["phone"] = exc.messages[0]
    if email:
        try:
            validate_email(email)
        except ValidationError:
            details["email"] = "电子邮箱格式不正确。"
    if len(content) < CONTENT_MIN:
        details["content"] = f"请具体说明异议的事实和理由（不少于{CONTENT_MIN}个字）。"
    elif len(content) > CONTENT_MAX:
        details["content"] = f"异议内容不能超过{CONTENT_MAX}个字，更多内容请作为证明材料上传。"
    if details:
        raise ValidationFailed("填写内容有误：" + next(iter(details.values())), details=details)
    return name, phone, email, content


def _same_content(text: str) -> str:
    # Chinese text has no word spaces: a re-wrapped or re-indented copy is the same text.
    return "".join(text.split())


@transaction.atomic
def objection_lodge(
    *,
    application: Application,
    name: str,
    phone: str,
    content: str,
    email: str = "",
    evidence: IO[bytes] | None = None,
    client: str = "",
) -> Objection:
    """Lodge an objection against a candidate of an open notice (anyone, no account needed).

    Refused after the notice's last day, for a candidate no longer in the notice, for a
    duplicate (same phone, same candidate, same content) and beyond the per-address rate.
    ``client`` defaults to the request's address (``core.context``).
    """
    name, phone, email, content = _clean_lodging(name, phone, email, content)
    application = Application.objects.select_related("brand", "enterprise", "batch").get(pk=application.pk)
    notice = PublicNotice.objects.filter(batch_id=application.batch_id).first()
    today = timezone.localdate()
    if notice is None or notice.starts_on > today:
        raise ValidationFailed("该品牌不在公示期内，不能提出异议。", code="notice_not_open")
    if notice.status != PublicNotice.Status.OPEN or notice.ends_on < today:
        raise ValidationFailed(f"公示已于{cn_date(notice.ends_on)}结束，不再受理异议。", code="notice_ended")
    if application.status != A.NOTICE:
        raise ValidationFailed("该品牌已不在公示名单中。", code="not_a_candidate")
    normalised = _same_content(content)
    for earlier in Objection.objects.filter(application=application, phone=phone).only("number", "content"):
        if _same_content(earlier.content) == normalised:
            raise ConflictError(
                f"您已就该品牌提交过相同的异议（编号 {earlier.number}），请勿重复提交。",
                code="duplicate_objection",
            )
    _check_rate(client or context.current().client_ip)
    checked = (
        uploads.check_upload(evidence, allowed=EVIDENCE_TYPES, max_mb=EVIDENCE_MAX_MB) if evidence else None
    )
    objection = Objection(
        number=numbering.next_number("YY", today.year),
        notice=notice,
        application=application,
        name=name,
        phone=phone,
        email=email,
        content=content,
    )
    if checked is not None and evidence is not None:
        evidence.seek(0)
        objection.evidence.save(f"{objection.number}.{checked.extension}", File(evidence), save=False)
        objection.evidence_sha256 = checked.sha256
    objection.save()
    audit.record(
        "evaluation.objection.lodged",
        target=objection,
        # Contact details stay out of the trail: it is kept for ever and read more widely.
        new={
            "number": objection.number,
            "application": application.number,
            "evidence": objection.evidence_sha256 or None,
        },
    )
    notify(
        users=recipients.office_staff(),
        kind="evaluation.objection_lodged",
        title=f"收到对“{application.brand.name}”的公示异议（{objection.number}）",
        body=f"{notice.title}：{application.enterprise.name}“{application.brand.name}”（{application.number}）"
        "收到一件异议，请调查核实后答复。",
        url=links.url_for("evaluation:objection-detail", objection.uuid),
    )
    return objection


@transaction.atomic
def objection_answer(*, actor: Any, objection: Objection, outcome: str, answer: str) -> Objection:
    """The office's answer to an objection: upheld (the candidate is removed) or dismissed,
    with reasons. The applicant is notified; the objector by e-mail when they gave an address."""
    from haopin.evaluation.services import application_move

    _require_office(actor, "只有省质量强省办可以答复异议。")
    locked = (
        Objection.objects.select_for_update()
        .select_related("application__brand", "application__enterprise", "notice")
        .get(pk=objection.pk)
    )
    if locked.status != Objection.Status.OPEN:
        raise ConflictError(
            f"该异议已答复（{locked.get_status_display()}），不能重复答复。", code="objection_answered"
        )
    if outcome not in {Objection.Status.UPHELD, Objection.Status.DISMISSED}:
        raise ValidationFailed("请选择调查结论：异议成立或异议不成立。", details={"outcome": "请选择结论。"})
    answer = (answer or "").strip()
    if not answer:
        raise ValidationFailed("请填写调查结论和理由。", details={"answer": "请填写理由。"})
    application = locked.application
    if outcome == Objection.Status.UPHELD and application.status not in {A.NOTICE, A.REJECTED}:
        raise ConflictError(
            f"该申报当前状态为“{application.get_status_display()}”，异议成立须在发布结果前答复；"
            "已入选的品牌请按动态管理程序暂停或撤销证书。",
            code="candidate_not_in_notice",
        )
    locked.status = outcome
    locked.answer = answer
    locked.answered_by = actor
    locked.answered_at = timezone.now()
    locked.save(update_fields=["status", "answer", "answered_by", "answered_at"])
    if outcome == Objection.Status.UPHELD and application.status == A.NOTICE:
        application_move(
            application=application,
            action="reject",
            actor=actor,
            opinion=f"公示异议成立（异议编号 {locked.number}）：{answer}",
        )
    audit.record(
        "evaluation.objection.answered",
        target=locked,
        actor=actor,
        old={"status": Objection.Status.OPEN},
        new={"status": outcome, "answer": answer, "application": application.number},
    )
    verdict = locked.get_status_display()
    removed = "，该品牌不再列入入选名单" if outcome == Objection.Status.UPHELD else ""
    notify(
        users=_applicant_users(application),
        kind="evaluation.objection_answered",
        title=f"关于“{application.brand.name}”的公示异议已处理：{verdict}",
        body=f"您的申报（{application.number}）在公示期间收到的异议（{locked.number}）经调查核实，"
        f"结论为{verdict}{removed}。\n理由：{answer}",
        url=links.url_of(application),
    )
    if locked.email:
        email_person(
            to=locked.email,
            subject=f"您提出的异议（{locked.number}）已处理",
            body=f"您对“{application.brand.name}”（{application.enterprise.name}）提出的异议"
            f"（编号 {locked.number}）"
            f"经调查核实，结论为：{verdict}。\n理由：{answer}\n\n感谢您对“好品山东”品牌建设的监督。\n"
            "山东省质量强省工作领导小组办公室",
        )
    objection.status = outcome
    return locked


# --- who sees objections ----------------------------------------------------------------------------


def can_see_contact(user: Any) -> bool:
    """Objectors' names, phones, e-mails and evidence: the provincial office only (not platform
    admins, not bureaus or departments, never the applicant)."""
    return scope_of(user).organisation_kind == "office"


def objections_for_user(user: Any) -> QuerySet[Objection]:
    """Objections with their private details, for the office that investigates them."""
    if not can_see_contact(user):
        return Objection.objects.none()
    return Objection.objects.select_related("notice", "application__brand", "application__enterprise")


@dataclass(frozen=True)
class PublicObjection:
    """What anyone may know about an objection: never who lodged it or their contact details."""

    number: str
    application_number: str
    brand: str
    enterprise: str
    status: str
    status_label: str


_PUBLIC_FIELDS = (
    "number",
    "application__number",
    "application__brand__name",
    "application__enterprise__name",
)


def _public(row: tuple) -> PublicObjection:
    number, app_number, brand, enterprise, status = row
    return PublicObjection(number, app_number, brand, enterprise, status, Objection.Status(status).label)


def objections_public(notice: PublicNotice) -> list[PublicObjection]:
    rows = notice.objections.order_by("number").values_list(*_PUBLIC_FIELDS, "status")
    return [_public(row) for row in rows]


def objection_public_get(number: str) -> PublicObjection:
    """An objection by its number (the objector checks progress); wrong check character →
    ValidationFailed, unknown → NotFoundError."""
    number = numbering.normalise(number, label="异议编号")
    row = Objection.objects.filter(number=number).values_list(*_PUBLIC_FIELDS, "status").first()
    if row is None:
        raise NotFoundError("没有该编号的异议。")
    return _public(row)


def notices_public() -> QuerySet[PublicNotice]:
    return PublicNotice.objects.select_related("batch").order_by("-starts_on")


def notice_candidates(notice: PublicNotice) -> QuerySet[Application]:
    """The applications listed in the notice, including those removed after an upheld objection
    (their status says so)."""
    return (
        Application.objects.filter(batch_id=notice.batch_id, decisions__action="open_notice")
        .select_related("brand", "enterprise__region", "brand__category")
        .distinct()
        .order_by("number")
    )


# --- reminders the tick sends about the review ----------------------------------------------------


def return_deadline_reminders_send(*, today: dt.date | None = None) -> list[Application]:
    """Tell applicants whose correction deadline falls within the next DEADLINE_REMINDER_DAYS
    days, once per application and deadline (the notification itself is the record; the row
    lock makes two concurrent ticks take turns)."""
    today = today or timezone.localdate()
    horizon = today + dt.timedelta(days=DEADLINE_REMINDER_DAYS)
    reminded = []
    due = Application.objects.filter(
        status=A.RETURNED, return_deadline__gte=today, return_deadline__lte=horizon
    ).values_list("pk", flat=True)
    for pk in due:
        with transaction.atomic():
            application = (
                Application.objects.select_for_update()
                .select_related("brand", "enterprise")
                .filter(pk=pk, status=A.RETURNED)
                .first()
            )
            if application is None or application.return_deadline is None:
                continue
            title = (
                f"申报{application.number}（{application.brand.name}）的整改期限"
                f"将于{cn_date(application.return_deadline)}届满"
            )
            if Notification.objects.filter(kind=DEADLINE_REMINDER_KIND, title=title[:150]).exists():
                continue
            notes = notify(
                users=_applicant_users(application),
                kind=DEADLINE_REMINDER_KIND,
                title=title,
                body="请在期限内按退回意见修改并重新提交申报。",
                url=links.url_of(application),
            )
            if notes:
                reminded.append(application)
    return reminded
