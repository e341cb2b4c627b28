from django.urls import path

from haopin.core import views

app_name = "workspace"

urlpatterns = [
    path("", views.home, name="home"),
    path("audit/", views.audit_log, name="audit-log"),
    path("audit/<int:seq>/", views.audit_event, name="audit-event"),
    path("audit/<int:seq>/target/", views.audit_target, name="audit-target"),
]
