"""Settings of the example project (also usable as ``DJANGO_SETTINGS_MODULE``)."""

from __future__ import annotations

import os

DEBUG = False
SECRET_KEY = "lettr-sync-tests-not-a-secret"
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
ROOT_URLCONF = "tests.django_project.urls"
INSTALLED_APPS: list[str] = []
DATABASES: dict[str, object] = {}
MIDDLEWARE = ["django.middleware.common.CommonMiddleware"]
USE_TZ = True
LOGGING_CONFIG = None
WSGI_APPLICATION = "tests.django_project.wsgi.application"

LETTR_API_KEY = os.environ.get("LETTR_API_KEY", "lttr_test_key")
"""The team's API key; in production read it from the environment only."""

LETTR_BASE_URL = os.environ.get("LETTR_BASE_URL")
"""None means Lettr itself; the tests point it at a FakeLettr."""

LETTR_RATE_LIMIT: float | None = None
"""Client-side pacing in requests per second; None here because the fake is unlimited.

Leave it at the SDK default (3, Lettr's documented team budget) in production.
"""

PROJECT_SETTINGS = {
    name: value
    for name, value in globals().items()
    if name.isupper() and name != "PROJECT_SETTINGS"
}
"""Every setting above, for ``settings.configure`` / ``override_settings`` in tests."""
