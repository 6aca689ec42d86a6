"""Settings for the webhook-receiver tests (the one place they are defined)."""

from __future__ import annotations

from typing import Any

_PACKAGE = __name__.rsplit(".", 1)[0]

BASE: dict[str, Any] = {
    "INSTALLED_APPS": [],
    "DATABASES": {},
    "USE_TZ": True,
    "LOGGING_CONFIG": None,
}
"""Only used when these tests are the first to configure Django."""

OVERRIDES: dict[str, Any] = {
    "DEBUG": False,
    "SECRET_KEY": "lettr-events-tests-not-a-secret",
    "ALLOWED_HOSTS": ["testserver"],
    "ROOT_URLCONF": f"{_PACKAGE}.urls",
    "MIDDLEWARE": ["django.middleware.csrf.CsrfViewMiddleware"],
    "CACHES": {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "lettr-events-tests",
        }
    },
}
"""Applied with ``override_settings`` around every Django receiver test."""

USERNAME = "lettr"
PASSWORD = "correct horse battery staple"
BEARER_TOKEN = "oauth-token-for-lettr"
SIGNING_SECRET = "whsec_test_signing_secret"
