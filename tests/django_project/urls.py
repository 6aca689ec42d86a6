"""Routes of the example project: the same listing as a sync and as an async view."""

from __future__ import annotations

from django.urls import path

from . import views

urlpatterns = [
    path("webhooks/sync/", views.webhooks_sync),
    path("webhooks/async/", views.webhooks_async),
]
