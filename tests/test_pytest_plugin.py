"""The pytest plugin, exercised the way users meet it: inner pytest runs of users' files.

Each inner run loads the plugin from its ``pytest11`` entry point, with
warnings as errors, under pytest-asyncio, anyio's plugin, plain sync tests
and pytest-django. They run in this process (pytester's in-process runs: a
fresh config and plugin manager each, and the modules they import removed
afterwards), which takes a fraction of a second instead of seconds; the
pytest-django run and the import check need a fresh interpreter (Django's
settings are process-wide) and run in subprocesses.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

# Hypothesis's plugin imports all of Hypothesis at the end of every run
# (seconds on a loaded machine, per inner run); users' runs here need none.
INI = """
[pytest]
addopts = -p no:cacheprovider -p no:hypothesispytest --strict-markers
filterwarnings = error
asyncio_default_fixture_loop_scope = function
"""

REAL_KEY = "lttr_live_do_not_use"

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def inner(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A pytester dir with our ini, and a 'real' key in the environment as a user would have."""
    monkeypatch.setenv("LETTR_API_KEY", REAL_KEY)
    monkeypatch.delenv("LETTR_BASE_URL", raising=False)
    pytester.makeini(INI)
    return pytester


def test_async_tests_under_pytest_asyncio(inner: pytest.Pytester) -> None:
    inner.makepyfile(
        test_user="""
        import pytest

        @pytest.mark.asyncio
        async def test_create_and_list(lettr_client, lettr_fake):
            hook = await lettr_client.webhooks.create(
                name="Orders", url="https://example.com/h", auth_type="none", events_mode="all"
            )
            assert [h.id for h in await lettr_client.webhooks.list()] == [hook.id]
            assert [r.method for r in lettr_fake.requests] == ["POST", "GET"]

        @pytest.mark.asyncio(loop_scope="module")
        async def test_a_module_scoped_loop(lettr_client):
            assert await lettr_client.webhooks.list() == []

        @pytest.mark.asyncio(loop_scope="module")
        async def test_a_second_test_on_that_loop(lettr_client):
            assert await lettr_client.webhooks.list() == []
        """
    )
    result = inner.runpytest()
    result.assert_outcomes(passed=3)


def test_closing_lettr_client_leaves_the_threads_current_loop_alone(
    inner: pytest.Pytester,
) -> None:
    """The teardown closes the client in a loop of its own, not with ``asyncio.run``.

    ``asyncio.run`` would unset the thread's current loop, which a user's
    hand-managed loop (and the session the client opened in it) relies on.
    """
    inner.makepyfile(
        test_user="""
        import asyncio

        LOOP = asyncio.new_event_loop()

        def test_uses_the_client_in_a_hand_managed_loop(lettr_client):
            asyncio.set_event_loop(LOOP)
            assert LOOP.run_until_complete(lettr_client.webhooks.list()) == []

        def test_that_loop_is_still_current_and_closes_the_session():
            assert asyncio.get_event_loop() is LOOP
            LOOP.run_until_complete(LOOP.shutdown_asyncgens())
            asyncio.set_event_loop(None)
            LOOP.close()
        """
    )
    result = inner.runpytest()
    result.assert_outcomes(passed=2)


def test_async_tests_under_anyio(inner: pytest.Pytester) -> None:
    inner.makepyfile(
        test_user="""
        import pytest

        @pytest.fixture
        def anyio_backend():
            return "asyncio"

        @pytest.mark.anyio
        @pytest.mark.lettr(webhooks=[{"name": "Seeded", "url": "https://example.com/s"}])
        async def test_seeded(lettr_client):
            hooks = await lettr_client.webhooks.list()
            assert [h.name for h in hooks] == ["Seeded"]
        """
    )
    result = inner.runpytest()
    result.assert_outcomes(passed=1)


def test_sync_tests_faults_and_rate_limit_marker(inner: pytest.Pytester) -> None:
    inner.makepyfile(
        test_user="""
        import pytest
        from lettr_async import ServerError
        from lettr_async.testing import Fault

        def test_sync_client(lettr_sync_client, lettr_fake):
            lettr_fake.add_webhook(name="A", url="https://example.com/a")
            assert [h.name for h in lettr_sync_client.webhooks.list()] == ["A"]

        def test_scripted_faults_are_retried(lettr_sync_client, lettr_fake):
            lettr_fake.inject(Fault.status(503))
            assert lettr_sync_client.webhooks.list() == []
            assert [r.status for r in lettr_fake.requests] == [503, 200]

        def test_faults_surface_without_retries(lettr_sync_client, lettr_fake):
            lettr_fake.inject(Fault.status(503))
            with pytest.raises(ServerError):
                lettr_sync_client.webhooks.list(max_retries=0)

        @pytest.mark.lettr(rate_limit=2)
        def test_rate_limit_marker(lettr_sync_client):
            lettr_sync_client.webhooks.list()
            assert lettr_sync_client.rate_limit_info.limit == 2
        """
    )
    result = inner.runpytest()
    result.assert_outcomes(passed=4)


def test_environment_points_at_the_fake_and_is_restored(inner: pytest.Pytester) -> None:
    inner.makepyfile(
        test_user=f"""
        import os
        import lettr_sync
        from lettr_async import AsyncLettr

        def test_client_from_environment(lettr_fake):
            assert os.environ["LETTR_BASE_URL"] == lettr_fake.base_url
            assert os.environ["LETTR_API_KEY"] != {REAL_KEY!r}
            with lettr_sync.Lettr() as client:   # what user code typically does
                assert client.webhooks.list() == []
            assert lettr_fake.requests[-1].headers["Authorization"] != "Bearer {REAL_KEY}"
            assert len(lettr_fake.requests) == 1

        def test_environment_restored_afterwards():
            assert os.environ["LETTR_API_KEY"] == {REAL_KEY!r}
            assert "LETTR_BASE_URL" not in os.environ
        """
    )
    result = inner.runpytest("-p", "no:randomly")
    result.assert_outcomes(passed=2)


def test_marker_typos_fail_loudly(inner: pytest.Pytester) -> None:
    inner.makepyfile(
        test_user="""
        import pytest

        @pytest.mark.lettr(ratelimit=3)
        def test_typo(lettr_fake):
            pass

        @pytest.mark.lettr(rate_limit=0)
        def test_bad_value(lettr_fake):
            pass
        """
    )
    result = inner.runpytest()
    result.assert_outcomes(errors=2)
    output = result.stdout.str()
    assert "unknown keyword(s) ['ratelimit']" in output
    assert "must be a positive int, got 0" in output


@pytest.mark.slow
def test_django_views_under_pytest_django(inner: pytest.Pytester) -> None:
    inner.makeini(INI + "DJANGO_SETTINGS_MODULE = djsettings\npythonpath = .\n")
    inner.makepyfile(
        djsettings="""
        SECRET_KEY = "test"
        ROOT_URLCONF = "djurls"
        ALLOWED_HOSTS = ["testserver"]
        DATABASES = {}
        INSTALLED_APPS = []
        USE_TZ = True
        """,
        djurls="""
        import functools
        import lettr_sync
        from django.http import JsonResponse
        from django.urls import path

        @functools.cache
        def lettr():
            return lettr_sync.Lettr()   # built on first use, from LETTR_* settings

        def names(request):
            return JsonResponse({"names": [h.name for h in lettr().webhooks.list()]})

        urlpatterns = [path("names/", names)]
        """,
        test_views="""
        import pytest

        @pytest.mark.lettr(webhooks=[{"name": "From Django", "url": "https://example.com/d"}])
        def test_view(client, lettr_fake):
            answer = client.get("/names/")
            assert answer.json() == {"names": ["From Django"]}
            assert lettr_fake.requests[-1].path == "/webhooks"
            import djurls
            djurls.lettr().close()
        """,
    )
    result = inner.runpytest_subprocess()
    result.assert_outcomes(passed=1)


@pytest.mark.slow
def test_the_plugin_is_registered_and_loads_nothing_heavy() -> None:
    code = textwrap.dedent(
        """
        import importlib.metadata, sys
        points = importlib.metadata.entry_points(group="pytest11")
        assert any(p.value == "lettr_async.pytest_plugin" for p in points), points
        import lettr_async.pytest_plugin
        heavy = [m for m in ("aiohttp", "lettr_async.testing", "lettr_sync") if m in sys.modules]
        assert not heavy, heavy
        """
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def _example_test_file() -> str:
    """The complete example test file of docs/testing.md, as the reader sees it."""
    page = (Path(__file__).resolve().parents[1] / "docs" / "testing.md").read_text()
    marker = "<!-- not-run: a complete pytest file;"
    after = page[page.index(marker) :]
    start = after.index("```python\n") + len("```python\n")
    return after[start : after.index("\n```", start)]


def test_the_documented_example_test_file_passes(inner: pytest.Pytester) -> None:
    inner.makeconftest(
        """
        import pytest

        @pytest.fixture
        def anyio_backend():
            return "asyncio"
        """
    )
    inner.makepyfile(test_my_app=_example_test_file())
    result = inner.runpytest()
    result.assert_outcomes(passed=6)
