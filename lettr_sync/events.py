"""Receiving webhook events from synchronous code: the same API as ``lettr_async.events``.

Parsing and verification are plain functions with no I/O, so the sync
package re-exports them unchanged rather than wrapping them; the Django
helpers live in ``lettr_async.events.django`` and serve sync views too.
"""

from lettr_async.events import *  # noqa: F403
from lettr_async.events import __all__ as __all__
