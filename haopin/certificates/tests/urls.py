"""The project's URLs plus this work's pages, for tests that run before config/urls.py
includes them (and harmlessly after: the project's own entries come first)."""

from django.urls import include, path

from haopin.config.urls import urlpatterns as project_urlpatterns

_namespaces = {getattr(p, "namespace", None) for p in project_urlpatterns}

urlpatterns = list(project_urlpatterns)
if "certificates" not in _namespaces:
    urlpatterns.append(path("certificates/", include("haopin.certificates.urls")))
if "notifications" not in _namespaces:
    urlpatterns.append(path("workspace/notifications/", include("haopin.notifications.urls")))
