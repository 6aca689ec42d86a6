"""Why aiohttp's floor is 3.13: header serialisation must be safe across threads.

Every ``lettr_sync.Lettr`` runs its own event loop in its own thread, and a
process often has more than one loop (two sync clients, a sync client next to
an async server, the test suite's threaded FakeLettr). aiohttp before 3.13
serialised every request's and response's headers into one module-level C
buffer; a thread switch in the middle of one serialisation (a ``__str__``, a
garbage collection running a finaliser) let another thread's headers
overwrite it. The bytes sent were then a mix of two messages: our CI saw the
fake server receive ``HTTP/1.1 200 OK ... Host: ...`` as a request, and the
same fault can put one client's ``Authorization`` header into another
client's request. aiohttp 3.13.0 (aio-libs/aiohttp#11464) gives each call
its own buffer.

The interleaving is forced here, so the test fails on every aiohttp < 3.13
with the C extension, not only when the scheduler is unlucky.
"""

from __future__ import annotations

import threading

from aiohttp import http_writer
from multidict import CIMultiDict


class _SwitchesThreadMidway(str):
    """A header value whose ``str()`` runs another thread's serialisation to completion."""

    def __str__(self) -> str:
        other = threading.Thread(
            target=http_writer._serialize_headers,
            args=("HTTP/1.1 200 OK", CIMultiDict({"X-Other-Thread": "o" * 64})),
        )
        other.start()
        other.join()
        return str.__str__(self)


def test_headers_serialised_in_two_threads_do_not_mix() -> None:
    # str subclasses go through str(), which the C writer calls mid-serialisation.
    headers: CIMultiDict[str] = CIMultiDict()
    headers["Authorization"] = _SwitchesThreadMidway("Bearer mine")
    sent = http_writer._serialize_headers("GET /api/webhooks HTTP/1.1", headers)
    assert sent == b"GET /api/webhooks HTTP/1.1\r\nAuthorization: Bearer mine\r\n\r\n"
