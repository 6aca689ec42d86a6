"""Routes of the webhook-receiver tests, each wired to a recording handler."""

from __future__ import annotations

import asyncio

from django.urls import path

from lettr_async.events import WebhookEvent
from lettr_async.events.django import DjangoCacheDedupStore, lettr_webhook, webhook_view

from ..payloads import Recorder
from .settings import BEARER_TOKEN, PASSWORD, SIGNING_SECRET, USERNAME

recorder = Recorder()


async def async_handler(events: list[WebhookEvent]) -> None:
    await asyncio.sleep(0)
    recorder(events)


@lettr_webhook(basic_auth=(USERNAME, PASSWORD))
def decorated(events: list[WebhookEvent]) -> None:
    recorder(events)


basic_view = webhook_view(recorder, basic_auth=(USERNAME, PASSWORD))
bearer_view = webhook_view(recorder, bearer_token=BEARER_TOKEN)
signed_view = webhook_view(recorder, signing_secret=SIGNING_SECRET)
cache_view = webhook_view(
    recorder,
    basic_auth=(USERNAME, PASSWORD),
    dedup_store=DjangoCacheDedupStore(warn_per_process=False),  # one test process
)
async_view = webhook_view(async_handler, basic_auth=(USERNAME, PASSWORD))
VIEWS = (basic_view, bearer_view, signed_view, async_view, decorated)

urlpatterns = [
    path("hooks/basic/", basic_view),
    path("hooks/bearer/", bearer_view),
    path("hooks/signed/", signed_view),
    path("hooks/cache/", cache_view),
    path("hooks/async/", async_view),
    path("hooks/decorated/", decorated),
]
