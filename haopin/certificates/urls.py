"""Certificate URLs (namespace "certificates"), mounted at the site root by config/urls.py:
public pages under ``certificates/``, workspace pages under ``workspace/certificates/``.

``verify`` pages are public (printed as QR codes on certificates, so their paths never change);
the PDF and the workspace pages need a signed-in user who may see the certificate.
"""

from django.urls import path

from haopin.certificates import views

app_name = "certificates"

urlpatterns = [
    path("certificates/verify/", views.verify_form, name="verify-form"),
    path("certificates/verify/<str:number>/", views.verify, name="verify"),
    path("workspace/certificates/", views.certificate_list, name="certificate-list"),
    path("workspace/certificates/<uuid:uuid>/", views.certificate_detail, name="certificate-detail"),
    path("workspace/certificates/<uuid:uuid>/pdf/", views.certificate_pdf, name="certificate-pdf"),
    path(
        "workspace/certificates/<uuid:uuid>/actions/<str:action>/",
        views.certificate_action,
        name="certificate-action",
    ),
]
