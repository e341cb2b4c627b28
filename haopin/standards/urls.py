"""Standards URLs (namespace "standards"), mounted at ``workspace/standards/`` by config/urls.py."""

from django.urls import path

from haopin.standards import views

app_name = "standards"

urlpatterns = [
    path("catalogue/", views.standard_list, name="standard-list"),
    path("catalogue/new/", views.standard_create, name="standard-create"),
    path("catalogue/<uuid:uuid>/", views.standard_detail, name="standard-detail"),
    path("catalogue/<uuid:uuid>/edit/", views.standard_edit, name="standard-edit"),
    path("catalogue/<uuid:uuid>/text/", views.standard_file, name="standard-file"),
    path("catalogue/<uuid:uuid>/text/download/", views.standard_file_download, name="standard-file-download"),
    path("rule-sets/", views.ruleset_list, name="ruleset-list"),
    path("rule-sets/new/", views.ruleset_create, name="ruleset-create"),
    path("rule-sets/<uuid:uuid>/", views.ruleset_detail, name="ruleset-detail"),
    path("rule-sets/<uuid:uuid>/edit/", views.ruleset_edit, name="ruleset-edit"),
    path("rule-sets/<uuid:uuid>/publish/", views.ruleset_publish, name="ruleset-publish"),
    path("rule-sets/<uuid:uuid>/new-version/", views.ruleset_new_version, name="ruleset-new-version"),
    path("rule-sets/<uuid:uuid>/retire/", views.ruleset_retire, name="ruleset-retire"),
    path("rule-sets/<uuid:uuid>/export/", views.ruleset_export, name="ruleset-export"),
    path("rule-sets/<uuid:uuid>/import/", views.ruleset_import, name="ruleset-import"),
    path("rule-sets/<uuid:uuid>/<str:kind>/new/", views.ruleset_item_add, name="ruleset-item-add"),
    path(
        "rule-sets/<uuid:uuid>/<str:kind>/<int:pk>/edit/", views.ruleset_item_edit, name="ruleset-item-edit"
    ),
    path(
        "rule-sets/<uuid:uuid>/<str:kind>/<int:pk>/remove/",
        views.ruleset_item_remove,
        name="ruleset-item-remove",
    ),
]
