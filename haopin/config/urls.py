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
    # /certificates/verify/<number>/ is printed in QR codes on certificates: it must never change.
    path("certificates/", include("haopin.certificates.urls")),
]
