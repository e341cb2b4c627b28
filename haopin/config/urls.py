from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from haopin.config.api import api

admin.site.site_header = "好品山东 平台管理"
admin.site.site_title = "好品山东"
admin.site.index_title = "平台管理"

# Outside the API router, /api/ paths still answer in the API's error shape.
handler404 = "haopin.config.api.handler404"
handler500 = "haopin.config.api.handler500"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="workspace:home", permanent=False)),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("accounts/", include("haopin.accounts.urls")),
    path("workspace/", include("haopin.core.urls")),
    path("workspace/registry/", include("haopin.registry.urls")),
    path("workspace/notifications/", include("haopin.notifications.urls")),
    path("workspace/standards/", include("haopin.standards.urls")),
    # Evaluation and certificates each have workspace pages (/workspace/...) and public ones:
    # /notices/... for public notices and objections, and /certificates/verify/<number>/, which
    # is printed in QR codes on certificates and must never change.
    path("", include("haopin.evaluation.urls")),
    path("", include("haopin.certificates.urls")),
]
