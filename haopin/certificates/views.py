"""Certificate pages: the public verification by number (anonymous) and the PDF (signed in)."""

from __future__ import annotations

from uuid import UUID

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from haopin.certificates import selectors
from haopin.certificates.models import Certificate
from haopin.certificates.pdf import render_certificate_pdf
from haopin.core.errors import NotFoundError, ValidationFailed

LABELS: dict[str, str] = dict(Certificate.Status.choices)
STATUS_STYLE: dict[str, str] = {
    Certificate.Status.VALID: "ok",
    Certificate.Status.SUSPENDED: "warn",
    Certificate.Status.REVOKED: "err",
    Certificate.Status.WITHDRAWN: "err",
    Certificate.Status.EXPIRED: "err",
}


@require_GET
def verify_form(request: HttpRequest) -> HttpResponse:
    number = request.GET.get("number", "").strip()
    if number:
        return verify(request, number)
    return render(request, "certificates/verify.html", {"query": ""})


@require_GET
def verify(request: HttpRequest, number: str) -> HttpResponse:
    """The public record of a certificate. A typo in the number (check character) gets its own
    message (400); a well-formed number that was never issued is a 404."""
    context: dict = {"query": number}
    try:
        certificate = selectors.certificate_public_get(number)
    except ValidationFailed as error:
        context["error"] = error.message
        return render(request, "certificates/verify.html", context, status=400)
    except NotFoundError as error:
        context["error"] = error.message
        return render(request, "certificates/verify.html", context, status=404)
    if certificate.number != number:
        return redirect("certificates:verify", certificate.number)
    context.update(
        certificate=certificate,
        status_style=STATUS_STYLE.get(certificate.status, ""),
        products=list(certificate.products.all()),
        history=[
            {
                "at": event.created_at,
                "source": LABELS.get(event.from_status, ""),
                "target": LABELS.get(event.to_status, event.to_status),
                "reason": event.reason,
            }
            for event in certificate.events.all()
        ],
        query=certificate.number,
    )
    return render(request, "certificates/verify.html", context)


@login_required
@require_GET
def certificate_pdf(request: HttpRequest, uuid: UUID) -> HttpResponse:
    certificate = selectors.certificate_get_for_user(request.user, uuid)
    response = HttpResponse(render_certificate_pdf(certificate), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{certificate.number}.pdf"'
    return response
