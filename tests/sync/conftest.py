"""Fixtures of the sync-facade tests: clients on a threaded FakeLettr, and Django."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

import lettr_sync
from lettr_async.testing import FakeLettr
from tests.helpers import API_KEY, FAST_RETRIES


def make_sync_client(fake: FakeLettr, **kwargs: Any) -> lettr_sync.Lettr:
    """A sync client for ``fake`` with pacing off and near-instant backoff."""
    kwargs.setdefault("rate_limit", None)
    kwargs.setdefault("retry_policy", FAST_RETRIES)
    return lettr_sync.Lettr(API_KEY, base_url=fake.base_url, **kwargs)


@pytest.fixture
def client(fake_thread: FakeLettr) -> Iterator[lettr_sync.Lettr]:
    """A sync client of the threaded fake, closed (portal thread joined) at teardown."""
    with make_sync_client(fake_thread) as sync_client:
        yield sync_client


def configure_django() -> None:
    """Configure Django once per process, whichever suite gets there first.

    The receiver tests under tests/events do the same with their own base
    settings; both suites then apply what they need with ``override_settings``.
    Only settings that cannot be overridden later (apps, databases) must agree,
    and both use none.
    """
    import django
    from django.apps import apps
    from django.conf import settings

    from tests.django_project.settings import PROJECT_SETTINGS

    if not settings.configured and not os.environ.get("DJANGO_SETTINGS_MODULE"):
        settings.configure(**PROJECT_SETTINGS)
    if not apps.ready:
        django.setup()


@pytest.fixture
def django_project(fake_thread: FakeLettr) -> Iterator[FakeLettr]:
    """The example Django project's settings, pointing at the threaded fake."""
    configure_django()
    from django.test.utils import override_settings

    from tests.django_project import views
    from tests.django_project.settings import PROJECT_SETTINGS

    overrides = {
        name: value
        for name, value in PROJECT_SETTINGS.items()
        if name not in ("INSTALLED_APPS", "DATABASES")
    }
    overrides["LETTR_BASE_URL"] = fake_thread.base_url
    with override_settings(**overrides):
        try:
            yield fake_thread
        finally:
            views.close_clients()
