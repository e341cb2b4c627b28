from django.urls import path

from haopin.core import views

app_name = "workspace"

urlpatterns = [
    path("", views.home, name="home"),
    path("audit/", views.audit_log, name="audit-log"),
]
