"""Fixtures of the webhook-receiver tests."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest


@pytest.fixture
def anyio_backend() -> str:
    """Run ``@pytest.mark.anyio`` tests on asyncio (aiohttp needs it)."""
    return "asyncio"


@pytest.fixture(scope="module")
def django_app() -> Iterator[None]:
    """Configure Django if nobody did, then apply the receiver tests' settings.

    Django is imported here, not at the top, so the other receiver tests run
    without it.
    """
    import django
    from django.conf import settings
    from django.test import override_settings

    from .django_app import settings as app_settings

    if not settings.configured and not os.environ.get("DJANGO_SETTINGS_MODULE"):
        settings.configure(**app_settings.BASE, **app_settings.OVERRIDES)
    django.setup()
    with override_settings(**app_settings.OVERRIDES):
        yield
