"""URLs of the bulk import pages (included by registry/urls.py under imports/)."""

from django.urls import path

from haopin.registry import import_views

urlpatterns = [
    path("", import_views.import_list, name="import-list"),
    path("template/", import_views.import_template, name="import-template"),
    path("upload/", import_views.import_upload, name="import-upload"),
    path("<uuid:uuid>/", import_views.import_detail, name="import-detail"),
    path("<uuid:uuid>/commit/", import_views.import_commit, name="import-commit"),
]
