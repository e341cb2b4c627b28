from django.urls import path  # noqa: F401  (routes are added as the registry pages are built)

app_name = "registry"

urlpatterns: list = []
