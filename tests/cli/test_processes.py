"""The command as users run it: real processes, a real fake server process, a terminal."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest

from lettr_async.testing import FakeLettr
from tests.helpers import API_KEY

TIMEOUT = 60

# A meta-path finder that refuses ``click``, as on a core install (no ``cli`` extra).
BLOCK_CLICK = (
    "import sys\n"
    "class NoClick:\n"
    "    def find_spec(self, name, path=None, target=None):\n"
    "        if name == 'click' or name.startswith('click.'):\n"
    "            raise ModuleNotFoundError(f'No module named {name!r}', name=name)\n"
    "        return None\n"
    "sys.meta_path.insert(0, NoClick())\n"
)
# Runs ``python -m lettr_async`` without click.
WITHOUT_CLICK = (
    BLOCK_CLICK
    + "import runpy\nrunpy.run_module('lettr_async', run_name='__main__', alter_sys=True)"
)
# Runs the ``lettr-webhooks`` console script (its installed entry point) without click.
SCRIPT_WITHOUT_CLICK = (
    BLOCK_CLICK + "from importlib.metadata import entry_points\n"
    "(script,) = entry_points(group='console_scripts', name='lettr-webhooks')\n"
    "sys.exit(script.load()())\n"
)
HINT = (
    "error: this command needs the optional command-line extra: "
    "pip install 'lettr-async[cli]' (the demo works without it)"
)


def child_env(**extra: str) -> dict[str, str]:
    """The current environment minus LETTR_* variables, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LETTR_")}
    env.update(extra)
    return env


@pytest.fixture
def fake_process() -> Iterator[str]:
    """``python -m lettr_async.testing --seed 3`` in a subprocess; yields its base URL."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "lettr_async.testing", "--port", "0", "--api-key", API_KEY,
         "--seed", "3"],
        stdout=subprocess.PIPE,
        text=True,
        env=child_env(),
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        base_url = proc.stdout.readline().strip()
        assert base_url.startswith("http://127.0.0.1:"), base_url
        yield base_url
    finally:
        proc.terminate()
        proc.communicate(timeout=TIMEOUT)


@pytest.mark.slow
def test_list_json_against_fake_server_process(fake_process: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "lettr_async", "list", "--json"],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env=child_env(LETTR_BASE_URL=fake_process, LETTR_API_KEY=API_KEY),
        check=False,
    )
    assert result.returncode == 0, result.stderr
    docs = json.loads(result.stdout)
    assert [d["name"] for d in docs] == ["Seed webhook 1", "Seed webhook 2", "Seed webhook 3"]
    assert result.stderr == ""


@pytest.mark.slow
def test_demo_subprocess() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "lettr_async", "demo"],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env=child_env(),
        check=False,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for line in (
        "Started a fake Lettr API at http://127.0.0.1:",
        "Create webhooks",
        "short name 'delivery' normalised",
        "List them",
        "caught ValidationError (status_code=None)",
        "caught NotFoundError: status=404",
        "] 4/4",
        "ok=True: 4 updated, 0 failed",
        "webhooks left: 0",
        "Done. The fake server received",
    ):
        assert line in out, line
    assert "demo-password" not in out
    assert "demo-secret" not in out
    assert result.stderr == ""


@pytest.mark.slow
def test_click_blocker_really_blocks() -> None:
    result = subprocess.run(
        [sys.executable, "-c", BLOCK_CLICK + "import click"],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env=child_env(),
        check=False,
    )
    assert result.returncode == 1
    assert "No module named 'click'" in result.stderr


@pytest.mark.slow
@pytest.mark.parametrize("runner", [WITHOUT_CLICK, SCRIPT_WITHOUT_CLICK], ids=["-m", "script"])
def test_demo_runs_without_click(runner: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", runner, "demo"],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env=child_env(),
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Done. The fake server received" in result.stdout
    assert result.stderr == ""


@pytest.mark.slow
@pytest.mark.parametrize("runner", [WITHOUT_CLICK, SCRIPT_WITHOUT_CLICK], ids=["-m", "script"])
@pytest.mark.parametrize("args", [["list"], ["--help"], []])
def test_cli_without_click_prints_hint(runner: str, args: list[str]) -> None:
    result = subprocess.run(
        [sys.executable, "-c", runner, *args],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env=child_env(),
        check=False,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [HINT]  # no traceback


def _drain(fd: int, sink: bytearray) -> None:
    """Read a pty master until the other side is closed (EIO on Linux)."""
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            return
        if not chunk:
            return
        sink.extend(chunk)


def run_with_terminal_stderr(fake: FakeLettr, *args: str) -> tuple[int, bytes, str]:
    """Run ``python -m lettr_async ARGS`` with stderr on a pty; (status, stdout, terminal)."""
    master, slave = pty.openpty()
    terminal = bytearray()
    reader = threading.Thread(target=_drain, args=(master, terminal))
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "lettr_async", *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=slave,
            env=child_env(LETTR_BASE_URL=fake.base_url, LETTR_API_KEY=API_KEY, TERM="xterm"),
        )
        os.close(slave)
        reader.start()
        stdout, _ = proc.communicate(timeout=TIMEOUT)
        reader.join(TIMEOUT)
    finally:
        os.close(master)
    return proc.returncode, stdout, terminal.decode(errors="replace")


@pytest.mark.slow
def test_progress_bar_on_a_terminal() -> None:
    with FakeLettr.in_thread(api_key=API_KEY) as fake:
        for index in range(5):
            fake.add_webhook(name=f"tty-{index}", url=f"https://tty.example.com/{index}")
        status, stdout, shown = run_with_terminal_stderr(
            fake, "bulk-update", "--match-name", "tty-*", "--disable", "--yes"
        )
        assert status == 0, shown
        assert "Updating webhooks" in shown
        assert "100%" in shown
        assert b"Updated 5 of 5 webhooks." in stdout
        assert b"Updating webhooks" not in stdout
        assert all(not w["enabled"] for w in fake.webhooks.values())


@pytest.mark.slow
def test_no_progress_bar_with_json_even_on_a_terminal() -> None:
    with FakeLettr.in_thread(api_key=API_KEY) as fake:
        for index in range(3):
            fake.add_webhook(name=f"tty-{index}", url=f"https://tty.example.com/{index}")
        status, stdout, shown = run_with_terminal_stderr(
            fake, "bulk-delete", "--match-name", "tty-*", "--yes", "--json"
        )
        assert status == 0, shown
        assert shown == ""
        assert json.loads(stdout)["succeeded"] == 3
        assert fake.webhooks == {}


@pytest.mark.slow
def test_no_progress_bar_without_terminal() -> None:
    with FakeLettr.in_thread(api_key=API_KEY) as fake:
        fake.add_webhook(name="plain", url="https://plain.example.com/")
        result = subprocess.run(
            [sys.executable, "-m", "lettr_async", "bulk-update", "--match-name", "plain",
             "--disable", "--yes"],
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            env=child_env(LETTR_BASE_URL=fake.base_url, LETTR_API_KEY=API_KEY),
            check=False,
        )  # fmt: skip
    assert result.returncode == 0
    assert result.stderr == ""
    assert "Updated 1 of 1 webhooks." in result.stdout
