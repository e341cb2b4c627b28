"""Certificate URLs (namespace "certificates"); mounted at ``certificates/`` by config/urls.py.

``verify`` pages are public (printed as QR codes on certificates, so their paths never change);
the PDF needs a signed-in user who may see the certificate.
"""

from django.urls import path

from haopin.certificates import views

app_name = "certificates"

urlpatterns = [
    path("verify/", views.verify_form, name="verify-form"),
    path("verify/<str:number>/", views.verify, name="verify"),
    path("<uuid:uuid>/pdf/", views.certificate_pdf, name="certificate-pdf"),
]
