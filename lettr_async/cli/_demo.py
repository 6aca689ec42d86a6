"""The guided tour: ``python -m lettr_async demo`` (or ``lettr-webhooks demo``).

Starts a ``FakeLettr`` in this process and walks a webhook's whole lifecycle
through ``AsyncLettr``: create (every auth type, all or selected events),
list, get, update, a local validation error, a 404, a bulk update with
progress and the clean-up. Needs no API key, no network and no click: it
uses only the public API of ``lettr_async`` (it does not import click or the
rest of the CLI, though it lives in its package: it is an application on top
of the client, like the commands).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import warnings
from collections import Counter
from collections.abc import Callable, Sequence
from typing import TextIO

from .. import AsyncLettr, NotFoundError, ValidationError, Webhook
from ..testing import FakeLettr

__all__ = ["DEMO_API_KEY", "main", "run_demo"]

DEMO_API_KEY = "lttr_demo_key"
"""The key the demo's fake server accepts; it never leaves this process."""


class _Printer:
    """Numbered section headings and indented lines on one stream."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._step = 0

    def __call__(self, text: str = "") -> None:
        print(text, file=self._stream, flush=True)

    def step(self, title: str) -> None:
        self._step += 1
        self(f"\n== {self._step}. {title}")

    def block(self, text: str, indent: str = "   ") -> None:
        for line in text.splitlines():
            self(indent + line)


def _events(webhook: Webhook) -> str:
    return "all" if webhook.event_types is None else ", ".join(webhook.event_types)


def _table(webhooks: Sequence[Webhook]) -> str:
    """A plain table of the demo's webhooks (the CLI has its own, richer one)."""
    if not webhooks:
        return "No webhooks."
    headers = ("ID", "NAME", "ENABLED", "AUTH", "EVENTS")
    rows = [
        (w.id, w.name, "yes" if w.enabled else "no", str(w.auth_type), _events(w)) for w in webhooks
    ]
    widths = [max(len(row[i]) for row in (headers, *rows)) for i in range(len(headers))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in (headers, *rows)
    )


def _details(webhook: Webhook) -> str:
    auth = str(webhook.auth_type)
    if webhook.has_auth_credentials:
        auth += " (credentials stored)"
    return "\n".join(
        (
            f"id:      {webhook.id}",
            f"name:    {webhook.name}",
            f"url:     {webhook.url}",
            f"enabled: {'yes' if webhook.enabled else 'no'}",
            f"auth:    {auth}",
            f"events:  {_events(webhook)}",
        )
    )


def _progress_printer(out: _Printer, width: int = 20) -> Callable[[int, int], None]:
    def on_progress(done: int, total: int) -> None:
        filled = width * done // total if total else width
        out(f"   [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")

    return on_progress


async def run_demo(stream: TextIO | None = None) -> int:
    """Run the tour, printing to ``stream`` (default stdout); return an exit status."""
    out = _Printer(stream or sys.stdout)
    async with FakeLettr(api_key=DEMO_API_KEY, rate_limit=None) as fake:
        out(f"Started a fake Lettr API at {fake.base_url} (in-process; no network, no real key).")
        async with AsyncLettr(DEMO_API_KEY, base_url=fake.base_url, rate_limit=None) as client:
            hooks = client.webhooks

            out.step("Create webhooks (auth: none, basic, oauth2; events: all or selected)")
            orders = await hooks.create(
                name="Orders",
                url="https://example.com/hooks/orders",
                auth_type="none",
                events_mode="all",
            )
            out(f"   created {orders.id}: 'Orders', no auth, all events")
            billing = await hooks.create(
                name="Billing",
                url="https://billing.example.com/lettr",
                auth_type="basic",
                auth_username="lettr",
                auth_password="demo-password",  # noqa: S106 - a demo value
                events_mode="selected",
                events=["delivery", "message.bounce"],
            )
            out(
                f"   created {billing.id}: 'Billing', basic auth, events "
                f"{billing.event_types} (short name 'delivery' normalised)"
            )
            analytics = await hooks.create(
                name="Analytics",
                url="https://analytics.example.com/events",
                auth_type="oauth2",
                oauth_client_id="demo-client",
                oauth_client_secret="demo-secret",  # noqa: S106 - a demo value
                oauth_token_url="https://auth.example.com/oauth/token",  # noqa: S106
                events_mode="selected",
                events=["engagement.open", "engagament.click"],
            )
            out(
                f"   created {analytics.id}: 'Analytics', oauth2, events "
                f"{analytics.event_types} (legacy 'engagament.' prefix fixed)"
            )
            staging = await hooks.create(
                name="Staging",
                url="https://staging.example.com/hooks",
                auth_type="none",
                events_mode="all",
            )
            out(f"   created {staging.id}: 'Staging', no auth, all events")

            out.step("List them")
            out.block(_table(await hooks.list()))

            out.step(f"Get one: {billing.id}")
            out.block(_details(await hooks.get(billing.id)))
            out("   (credentials are never returned: only 'credentials stored')")

            out.step(f"Update {staging.id}: rename and disable (active=False)")
            updated = await hooks.update(staging.id, name="Staging (paused)", active=False)
            out(f"   name={updated.name!r} enabled={updated.enabled}")

            out.step("Update the URL with url= (target= is the deprecated alias)")
            moved = await hooks.update(orders.id, url="https://example.com/hooks/orders-v2")
            out(f"   url={moved.url}")
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                await hooks.update(orders.id, target="https://example.com/hooks/orders-v2")
            for warning in caught:
                out(
                    f"   target= still works but warns: {warning.category.__name__}: "
                    f"{warning.message}"
                )

            out.step("A local validation error: nothing is sent")
            before = len(fake.requests)
            try:
                await hooks.create(
                    name="", url="not a url", auth_type="basic", events_mode="selected"
                )
            except ValidationError as exc:
                out(f"   caught ValidationError (status_code={exc.status_code}):")
                for field, messages in exc.errors.items():
                    out(f"     {field}: {' '.join(messages)}")
            out(f"   requests the server saw: {before} before, {len(fake.requests)} after")

            out.step("A missing webhook: NotFoundError")
            try:
                await hooks.get("webhook-does-not-exist")
            except NotFoundError as exc:
                out(
                    f"   caught NotFoundError: status={exc.status_code} "
                    f"error_code={exc.error_code} message={exc.message!r}"
                )

            out.step("Bulk: enable every webhook with update_many, with progress")
            everyone = await hooks.list()
            result = await hooks.update_many(
                {w.id: {"active": True} for w in everyone},
                on_progress=_progress_printer(out),
            )
            out(f"   ok={result.ok}: {len(result.succeeded)} updated, {len(result.failed)} failed")
            out.block(_table(await hooks.list()))

            out.step("Clean up: delete them all with delete_many")
            deleted = await hooks.delete_many([w.id for w in everyone])
            out(f"   deleted {len(deleted.succeeded)}; webhooks left: {len(await hooks.list())}")

        methods = Counter(r.method for r in fake.requests)
        summary = ", ".join(f"{m} {n}" for m, n in sorted(methods.items()))
        out(f"\nDone. The fake server received {len(fake.requests)} requests ({summary}).")
    return 0


def main(argv: Sequence[str] | None = None, prog: str = "lettr-webhooks demo") -> int:
    """Parse ``--help`` and run the demo; return the exit status."""
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Walk the whole webhook lifecycle against an in-process fake Lettr "
        "server. Needs no API key and no network.",
    )
    parser.parse_args(list(argv) if argv is not None else None)
    return asyncio.run(run_demo())
