from django.urls import include, path

app_name = "registry"

urlpatterns = [
    path("imports/", include("haopin.registry.import_urls")),
]
