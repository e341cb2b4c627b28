"""URLs of the bulk import pages (included by registry/urls.py under imports/)."""

from django.urls import path  # noqa: F401

urlpatterns: list = []
