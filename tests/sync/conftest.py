"""Fixtures of the sync-facade tests: clients on a threaded FakeLettr, and Django."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from anyio import from_thread

import lettr_sync
from lettr_async.testing import FakeLettr
from tests.helpers import API_KEY, FAST_RETRIES, ctrl_c_raises


def make_sync_client(fake: FakeLettr, **kwargs: Any) -> lettr_sync.Lettr:
    """A sync client for ``fake`` with pacing off and near-instant backoff."""
    kwargs.setdefault("rate_limit", None)
    kwargs.setdefault("retry_policy", FAST_RETRIES)
    return lettr_sync.Lettr(API_KEY, base_url=fake.base_url, **kwargs)


def press_ctrl_c_during(blocking: Callable[[], object], when: Callable[[], object]) -> None:
    """Run ``blocking`` in the main thread; a real SIGINT lands once ``when()`` has returned.

    ``blocking`` must be interrupted by it (``KeyboardInterrupt``), which is
    what a user pressing Ctrl-C while a sync call waits does.
    """
    assert threading.current_thread() is threading.main_thread()

    def press() -> None:
        when()
        signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGINT)

    presser = threading.Thread(target=press)
    with ctrl_c_raises():
        presser.start()
        try:
            with pytest.raises(KeyboardInterrupt):
                blocking()
        finally:
            presser.join()


@pytest.fixture
def interrupt_after_submit() -> Iterator[Callable[[], None]]:
    """Make the next sync call raise KeyboardInterrupt once it was handed to the loop.

    What a Ctrl-C does that the signal handler runs after ``from_thread.run``
    submitted the call but before it waited: the call goes on into the loop
    (here from a helper thread, which stands for the loop's queue) while the
    caller sees the interrupt. Calling the returned function waits for that
    submission to settle; teardown does too.
    """
    real_run = from_thread.run
    helpers: list[threading.Thread] = []
    patch = pytest.MonkeyPatch()

    def submit(*args: Any, **kwargs: Any) -> None:
        with contextlib.suppress(BaseException):  # refused or cancelled: the point
            real_run(*args, **kwargs)

    def run_then_interrupt(*args: Any, **kwargs: Any) -> Any:
        patch.undo()  # only the next call
        helper = threading.Thread(target=submit, args=args, kwargs=kwargs)
        helpers.append(helper)
        helper.start()
        raise KeyboardInterrupt

    def settle() -> None:
        for helper in helpers:
            helper.join()

    patch.setattr(from_thread, "run", run_then_interrupt)
    try:
        yield settle
    finally:
        patch.undo()
        settle()


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
