from django.urls import include, path

from haopin.registry import views

app_name = "registry"

urlpatterns = [
    path("enterprises/", views.enterprise_list, name="enterprise-list"),
    path("enterprises/new/", views.enterprise_create, name="enterprise-create"),
    path("enterprises/<uuid:uuid>/", views.enterprise_detail, name="enterprise-detail"),
    path("enterprises/<uuid:uuid>/edit/", views.enterprise_edit, name="enterprise-edit"),
    path(
        "enterprises/<uuid:uuid>/brands/new/", views.enterprise_brand_create, name="enterprise-brand-create"
    ),
    path(
        "enterprises/<uuid:uuid>/documents/new/",
        views.enterprise_document_upload,
        name="enterprise-document-upload",
    ),
    path("brands/", views.brand_list, name="brand-list"),
    path("brands/new/", views.brand_create, name="brand-create"),
    path("brands/<uuid:uuid>/", views.brand_detail, name="brand-detail"),
    path("brands/<uuid:uuid>/edit/", views.brand_edit, name="brand-edit"),
    path("brands/<uuid:uuid>/sources/new/", views.brand_source_add, name="brand-source-add"),
    path(
        "brands/<uuid:uuid>/sources/<int:pk>/remove/", views.brand_source_remove, name="brand-source-remove"
    ),
    path("brands/<uuid:uuid>/logo/", views.brand_logo, name="brand-logo"),
    path("brands/<uuid:uuid>/products/new/", views.product_create, name="product-create"),
    path("products/", views.product_list, name="product-list"),
    path("products/<uuid:uuid>/", views.product_detail, name="product-detail"),
    path("products/<uuid:uuid>/edit/", views.product_edit, name="product-edit"),
    path("products/<uuid:uuid>/delete/", views.product_delete, name="product-delete"),
    path("documents/<uuid:uuid>/", views.document_download, name="document-download"),
    path("imports/", include("haopin.registry.import_urls")),
]
