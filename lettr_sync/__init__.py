"""Synchronous facade over ``lettr_async``: ``import lettr_sync as lettr`` and go.

A drop-in for Lettr's own Python SDK (``lettr.Lettr(api_key)``,
``client.webhooks.list()``, the same exceptions), generated from the async
core so both APIs always match. Calls run on a background event loop owned
by the client, so one client can be shared by many threads and keeps its
connections pooled.

Everything ``lettr_async`` exports (models, errors, enums, ``EVENT_TYPES``,
``BulkResult``...) is re-exported here, except its ``Async*`` names (the
async client and resource classes). ``__all__`` is derived from
``lettr_async.__all__`` rather than copied, so the two cannot drift.
``lettr_sync.events`` (receiving webhook events) is imported with the package;
``lettr_sync.declarative`` (webhooks as code) only when you import it.
"""

import lettr_async as _lettr_async
from lettr_async import *  # noqa: F403

from . import events as events
from ._client import ClientState, Lettr, SyncInAsyncContextWarning
from ._generated import Webhooks

_ASYNC_ONLY = frozenset(name for name in _lettr_async.__all__ if name.startswith("Async"))
"""``lettr_async`` names with no place in a sync API: ``AsyncLettr``, ``AsyncWebhooks``..."""

for _name in _ASYNC_ONLY:
    globals().pop(_name, None)

__all__ = [name for name in _lettr_async.__all__ if name not in _ASYNC_ONLY]
__all__ += ["ClientState", "Lettr", "SyncInAsyncContextWarning", "Webhooks"]

del _name
