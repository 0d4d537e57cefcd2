"""URLs of the Django backend's tests: the admin (``test_admin.py``)."""

from django.contrib import admin
from django.urls import path

urlpatterns = [path("admin/", admin.site.urls)]
