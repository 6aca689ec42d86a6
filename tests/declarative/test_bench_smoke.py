"""Smoke test of the webhooks-as-code benchmark: tiny sizes, real FakeLettr, no timing asserts."""

from __future__ import annotations

from pathlib import Path

from benchmarks.scenario_declarative import make_files, run
from lettr_async.declarative import load_config


def test_the_files_differ_by_the_requested_changes(tmp_path: Path) -> None:
    a, b = make_files(tmp_path, endpoints=20, changes=10)
    urls_a = {w.url for w in load_config(a, env={}).webhooks}
    urls_b = {w.url for w in load_config(b, env={}).webhooks}
    assert len(urls_a) == len(urls_b) == 20
    assert len(urls_a - urls_b) == len(urls_b - urls_a) == 2


def test_a_tiny_run_sends_one_request_per_change_plus_the_list() -> None:
    document = run(endpoints=8, changes=5, rate=50, rounds=2)
    assert document["setup_apply"]["requests"] == 9
    for measured in document["rounds"]:
        assert measured["changes"] == 5
        assert measured["requests"] == 6
        assert measured["failed"] == 0
