"""FakeLettr delivering events to real receivers, end to end over 127.0.0.1 sockets.

The sender (``FakeLettr.deliver``: Lettr's auth, retries and bookkeeping) and
the receivers (``lettr_async.events``' aiohttp handler and Django view) are
tested against each other, and the webhook's state is read back through the
SDK. Retries use Lettr's schedule scaled down to microseconds.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import timedelta
from urllib.parse import unquote_plus

import attrs
import pytest
from aiohttp import web

from lettr_async import AsyncLettr
from lettr_async.events import (
    BounceEvent,
    WebhookEvent,
    parse_events,
)
from lettr_async.events.aiohttp import webhook_handler
from lettr_async.testing import (
    DEFAULT_RETRY_SCHEDULE,
    DEFAULT_TIME_SCALE,
    MAX_ANSWER_BYTES,
    USER_AGENT,
    AttemptResult,
    DeliveryReport,
    Endpoint,
    FakeLettr,
    WebhookSender,
    make_event,
    make_events,
    plan_posts,
    trigger,
)
from lettr_async.testing._loopback import LoopbackSite
from lettr_async.testing._oauth import MAX_TOKEN_ANSWER_BYTES
from lettr_async.testing.events import event_type_of
from lettr_async.types import EVENT_TYPES
from tests import live_django
from tests.helpers import closed_port

pytestmark = pytest.mark.anyio

SCALE = 1e-6  # Lettr's ~35 h of retries in ~0.1 s
ATTEMPTS = len(DEFAULT_RETRY_SCHEDULE) + 1
USER, PASSWORD = "lettr", "correct horse battery staple"
CLIENT_ID, CLIENT_SECRET = "lettr-client", "client-secret-42"
TOKEN = "issued-access-token"
SIGNING_SECRET = "whsec_aiohttp_receiver_secret"


@attrs.frozen
class Seen:
    """One request a test receiver got."""

    route: str
    path_qs: str
    headers: dict[str, str]
    body: bytes


Route = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Receiver:
    """An aiohttp app with the events package's handlers behind several routes.

    ``/hooks/basic`` (basic auth), ``/hooks/bearer`` (OAuth 2 bearer),
    ``/hooks/open`` (no auth), ``/hooks/signed`` (``Lettr-Signature``),
    ``/hooks/gone`` (always 410), ``/hooks/hang`` (never answers until
    ``release``), ``/hooks/echo`` (a 500 echoing the ``Authorization``
    header, a terminal escape and 10 kB) and ``/oauth/token`` (client
    credentials, Basic or form body). ``events[route]`` is what each
    handler was given, delivery by delivery.
    """

    def __init__(self) -> None:
        self.seen: list[Seen] = []
        self.events: dict[str, list[list[WebhookEvent]]] = {}
        self.token_styles: list[str] = []
        self.hostile_token_body = b""
        self.release = asyncio.Event()
        self.on_seen: Callable[[Seen], None] | None = None
        self.app = web.Application()
        self.site: LoopbackSite | None = None
        self.base = ""
        routes: dict[str, Route] = {
            "basic": webhook_handler(self._handler("basic"), basic_auth=(USER, PASSWORD)),
            "bearer": webhook_handler(self._handler("bearer"), bearer_token=TOKEN),
            "open": webhook_handler(self._handler("open")),
            "signed": webhook_handler(self._handler("signed"), signing_secret=SIGNING_SECRET),
            "gone": self._gone,
            "echo": self._echo,
            "hang": self._hang,
        }
        for name, route in routes.items():
            self.app.router.add_post(f"/hooks/{name}", self._recording(name, route))
        self.app.router.add_post("/oauth/token", self._recording("token", self._token))
        self.app.router.add_post("/oauth/hostile", self._hostile_token)

    def _handler(self, route: str) -> Callable[[list[WebhookEvent]], Awaitable[None]]:
        async def handle(events: list[WebhookEvent]) -> None:
            self.events.setdefault(route, []).append(events)

        return handle

    def _recording(self, name: str, route: Route) -> Route:
        async def record(request: web.Request) -> web.StreamResponse:
            body = await request.read()  # cached: the inner handler reads it again
            seen = Seen(name, request.path_qs, dict(request.headers), body)
            self.seen.append(seen)
            if self.on_seen is not None:
                self.on_seen(seen)
            return await route(request)

        return record

    async def _gone(self, request: web.Request) -> web.StreamResponse:
        return web.json_response({"error": "gone"}, status=410)

    async def _echo(self, request: web.Request) -> web.StreamResponse:
        told = request.headers.get("Authorization", "")
        return web.Response(status=500, text=f"you said {told}\x1b]0;pwned\x07" + "y" * 10_000)

    async def _hang(self, request: web.Request) -> web.StreamResponse:
        await self.release.wait()
        return web.json_response({})

    async def _token(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        header = request.headers.get("Authorization", "")
        if header.startswith("Basic "):
            user, _, secret = base64.b64decode(header[6:]).decode().partition(":")
            client = (unquote_plus(user), unquote_plus(secret))
            self.token_styles.append("basic")
        else:
            client = (str(form.get("client_id", "")), str(form.get("client_secret", "")))
            self.token_styles.append("body")
        if form.get("grant_type") != "client_credentials":
            return web.json_response({"error": "unsupported_grant_type"}, status=400)
        if client != (CLIENT_ID, CLIENT_SECRET):
            return web.json_response({"error": "invalid_client"}, status=401)
        return web.json_response(
            {"access_token": TOKEN, "token_type": "Bearer", "expires_in": 3600}
        )

    async def _hostile_token(self, request: web.Request) -> web.StreamResponse:
        return web.Response(body=self.hostile_token_body, content_type="application/json")

    def url(self, path: str) -> str:
        return self.base + path

    def seen_by(self, route: str) -> list[Seen]:
        return [s for s in self.seen if s.route == route]

    async def __aenter__(self) -> Receiver:
        runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=1.0)
        self.site = await LoopbackSite.start(runner, "127.0.0.1")
        self.base = f"http://127.0.0.1:{self.site.port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.release.set()
        if self.site is not None:
            await self.site.stop()


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with Receiver() as server:
        yield server


@pytest.fixture
async def client(fake: FakeLettr) -> AsyncIterator[AsyncLettr]:
    """An SDK client of ``fake``; also scales the fake's retry schedule down."""
    fake.delivery_time_scale = SCALE
    async with AsyncLettr(api_key="lttr_test_key", base_url=fake.base_url, rate_limit=None) as sdk:
        yield sdk


def types_of(events: list[WebhookEvent]) -> list[str]:
    return [e.type for e in events]


# ------------------------------------------------------------------ end to end


async def test_basic_auth_delivery_to_aiohttp_receiver(
    fake: FakeLettr, client: AsyncLettr, receiver: Receiver
) -> None:
    hook = await client.webhooks.create(
        name="Orders",
        url=receiver.url("/hooks/basic"),
        auth_type="basic",
        auth_username=USER,
        auth_password=PASSWORD,
        events_mode="selected",
        events=["message.delivery", "message.bounce"],
    )
    delivery = make_event("message.delivery", recipient="Ann@Example.com")
    bounce = make_event("message.bounce", recipient="bob@example.com", bounce_class="25")
    click = make_event("engagement.click")

    reports = await fake.deliver([delivery, bounce, click])

    assert reports == [
        DeliveryReport(
            webhook_id=hook.id,
            url=hook.url,
            attempts=((200, None),),
            delivered=True,
            disabled=False,
        )
    ]
    assert fake.deliveries == reports
    (batch,) = receiver.events["basic"]
    assert types_of(batch) == ["message.delivery", "message.bounce"]
    assert [e.id for e in batch] == [
        delivery["msys"]["message_event"]["event_id"],
        bounce["msys"]["message_event"]["event_id"],
    ]
    assert batch[0].recipient == "ann@example.com"
    assert batch[0].raw_rcpt_to == "Ann@Example.com"
    assert isinstance(batch[1], BounceEvent)
    assert batch[1].bounce_class == "25"
    assert batch[1].recipient == "bob@example.com"
    (seen,) = receiver.seen
    assert seen.headers["User-Agent"] == USER_AGENT
    assert seen.headers["Content-Type"] == "application/json"
    expected = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    assert seen.headers["Authorization"] == f"Basic {expected}"
    assert [e.type for e in parse_events(seen.body)] == types_of(batch)  # a JSON array

    got = await client.webhooks.get(hook.id)
    assert got.last_status == "success"
    assert got.last_successful_at is not None
    assert got.last_successful_at.utcoffset() == timedelta(0)
    assert got.last_failure_at is None
    assert fake.webhooks[hook.id]["last_successful_at"].endswith("+00:00")


async def test_wrong_credentials_are_retried_then_fail(
    fake: FakeLettr, client: AsyncLettr, receiver: Receiver
) -> None:
    hook = await client.webhooks.create(
        name="Orders",
        url=receiver.url("/hooks/basic"),
        auth_type="basic",
        auth_username=USER,
        auth_password="wrong",
        events_mode="all",
    )

    (report,) = await fake.deliver(["message.delivery"])

    assert report.attempts == ((401, None),) * ATTEMPTS
    assert not report.delivered
    assert not report.disabled
    assert len(receiver.seen) == ATTEMPTS
    assert len({s.body for s in receiver.seen}) == 1  # every retry resends the same batch
    assert "basic" not in receiver.events
    got = await client.webhooks.get(hook.id)
    assert got.last_status == "failure"
    assert got.last_failure_at is not None
    assert got.last_failure_at.utcoffset() == timedelta(0)
    assert got.last_successful_at is None
    assert got.enabled


async def test_duplicate_delivery_is_processed_once(
    fake: FakeLettr, client: AsyncLettr, receiver: Receiver
) -> None:
    await client.webhooks.create(
        name="Orders",
        url=receiver.url("/hooks/basic"),
        auth_type="basic",
        auth_username=USER,
        auth_password=PASSWORD,
        events_mode="all",
    )
    batch = make_events("message.delivery", "engagement.open")

    first = await fake.deliver(batch)
    second = await fake.deliver(batch)

    assert [r.attempts for r in first + second] == [((200, None),), ((200, None),)]
    ids = [e.id for call in receiver.events["basic"] for e in call]
    sent = [inner["event_id"] for item in batch for inner in item["msys"].values()]
    assert ids == sent  # each once: the second delivery was all duplicates
    assert len(receiver.seen) == 2


async def test_gone_disables_the_webhook(
    fake: FakeLettr, client: AsyncLettr, receiver: Receiver
) -> None:
    hook = await client.webhooks.create(
        name="Old", url=receiver.url("/hooks/gone"), auth_type="none", events_mode="all"
    )

    (report,) = await fake.deliver(["message.delivery"])

    assert report.attempts == ((410, None),)
    assert report.disabled
    assert not report.delivered
    got = await client.webhooks.get(hook.id)
    assert not got.enabled
    assert got.last_status == "failure"
    assert await fake.deliver(["message.delivery", "message.bounce"]) == []
    assert len(receiver.seen) == 1


async def test_oauth2_client_credentials(
    fake: FakeLettr, client: AsyncLettr, receiver: Receiver
) -> None:
    hook = await client.webhooks.create(
        name="OAuth",
        url=receiver.url("/hooks/bearer"),
        auth_type="oauth2",
        oauth_client_id=CLIENT_ID,
        oauth_client_secret=CLIENT_SECRET,
        oauth_token_url=receiver.url("/oauth/token"),
        events_mode="selected",
        events=["engagement.click"],
    )

    first = await fake.deliver(["engagement.click"])
    second = await fake.deliver(["engagement.click", "message.delivery"])

    assert [r.attempts for r in first + second] == [((200, None),), ((200, None),)]
    assert [types_of(b) for b in receiver.events["bearer"]] == [
        ["engagement.click"],
        ["engagement.click"],
    ]
    (token_request,) = receiver.seen_by("token")  # the token is cached (expires_in 3600)
    assert receiver.token_styles == ["basic"]
    assert token_request.body == b"grant_type=client_credentials"
    assert token_request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    for seen in receiver.seen_by("bearer"):
        assert seen.headers["Authorization"] == f"Bearer {TOKEN}"
    assert (await client.webhooks.get(hook.id)).last_status == "success"


async def test_oauth2_wrong_client_secret_fails(
    fake: FakeLettr, client: AsyncLettr, receiver: Receiver
) -> None:
    hook = await client.webhooks.create(
        name="OAuth",
        url=receiver.url("/hooks/bearer"),
        auth_type="oauth2",
        oauth_client_id=CLIENT_ID,
        oauth_client_secret="not-the-secret",
        oauth_token_url=receiver.url("/oauth/token"),
        events_mode="all",
    )

    (report,) = await fake.deliver(["message.delivery"])

    assert report.attempts == ((None, "token endpoint answered HTTP 401"),) * ATTEMPTS
    assert not report.delivered
    assert receiver.seen_by("bearer") == []
    assert len(receiver.seen_by("token")) == ATTEMPTS
    got = await client.webhooks.get(hook.id)
    assert got.last_status == "failure"
    assert got.last_failure_at is not None


def _oauth_hook(fake: FakeLettr, receiver: Receiver, token_path: str) -> None:
    """Seed an OAuth 2 webhook whose token endpoint is ``token_path`` on the receiver."""
    fake.add_webhook(
        name="OAuth",
        url=receiver.url("/hooks/bearer"),
        auth_type="oauth2",
        oauth_client_id=CLIENT_ID,
        oauth_client_secret=CLIENT_SECRET,
        oauth_token_url=receiver.url(token_path),
    )


async def test_oauth2_client_credentials_in_the_body(receiver: Receiver) -> None:
    async with FakeLettr(oauth_client_auth="body", delivery_time_scale=SCALE) as fake:
        _oauth_hook(fake, receiver, "/oauth/token")
        (report,) = await fake.deliver(["message.delivery"])
    assert report.delivered
    assert receiver.token_styles == ["body"]
    assert "Authorization" not in receiver.seen_by("token")[0].headers


async def test_only_enabled_subscribed_webhooks_get_events(
    fake: FakeLettr, client: AsyncLettr, receiver: Receiver
) -> None:
    opens = await client.webhooks.create(
        name="Opens",
        url=receiver.url("/hooks/open?w=opens"),
        auth_type="none",
        events_mode="selected",
        events=["engagement.open"],
    )
    everything = await client.webhooks.create(
        name="All", url=receiver.url("/hooks/open?w=all"), auth_type="none", events_mode="all"
    )
    off = await client.webhooks.create(
        name="Off", url=receiver.url("/hooks/open?w=off"), auth_type="none", events_mode="all"
    )
    await client.webhooks.update(off.id, active=False)
    future = {"msys": {"ab_test_event": {"type": "ab_test_completed", "event_id": "9"}}}

    reports = await fake.deliver(["message.delivery", "message.bounce", future])

    assert [r.webhook_id for r in reports] == [everything.id]
    assert {s.path_qs for s in receiver.seen} == {"/hooks/open?w=all"}
    (batch,) = receiver.events["open"]
    assert types_of(batch) == [
        "message.delivery",
        "message.bounce",
        "ab_test_event.ab_test_completed",
    ]
    for hook in (opens, off):
        got = await client.webhooks.get(hook.id)
        assert got.last_status is None
        assert got.last_successful_at is None


# ----------------------------------------------------------- sender behaviour


async def test_connection_refused_is_retried_per_schedule(fake: FakeLettr) -> None:
    hook = fake.add_webhook(name="Down", url=f"http://127.0.0.1:{closed_port()}/hooks")

    (report,) = await fake.deliver("message.delivery", retry_schedule=[0.0, 0.0])

    assert len(report.attempts) == 3
    for status, error in report.attempts:
        assert status is None
        assert error is not None
        assert error.startswith("ClientConnectorError")
    assert report.webhook_id == hook["id"]
    assert fake.webhooks[hook["id"]]["last_status"] == "failure"


async def test_timeout_counts_as_failure(fake: FakeLettr, receiver: Receiver) -> None:
    fake.add_webhook(name="Slow", url=receiver.url("/hooks/hang"))

    (report,) = await fake.deliver(["message.delivery"], retry_schedule=[0.0], timeout=0.05)

    assert report.attempts == ((None, "timed out after 0.05 s"),) * 2
    assert not report.delivered


async def test_disabling_during_retries_stops_them(fake: FakeLettr, receiver: Receiver) -> None:
    hook = fake.add_webhook(
        name="Orders",
        url=receiver.url("/hooks/basic"),
        auth_type="basic",
        auth_username=USER,
        auth_password="wrong",
    )

    def disable(seen: Seen) -> None:  # as if a user switched it off after the first try
        fake.webhooks[hook["id"]]["enabled"] = False

    receiver.on_seen = disable
    (report,) = await fake.deliver(["message.delivery"], retry_schedule=[0.0, 0.0])

    assert report.attempts == ((401, None),)
    assert len(receiver.seen) == 1


async def test_default_schedule_is_scaled(fake: FakeLettr, receiver: Receiver) -> None:
    fake.add_webhook(name="Gone", url=receiver.url("/hooks/gone"))
    fake.add_webhook(
        name="Orders",
        url=receiver.url("/hooks/basic"),
        auth_type="basic",
        auth_username=USER,
        auth_password="wrong",
    )

    reports = await fake.deliver(["message.delivery"], time_scale=SCALE)

    assert sorted(len(r.attempts) for r in reports) == [1, ATTEMPTS]
    assert sum(DEFAULT_RETRY_SCHEDULE) == 124_560  # "about 35 hours"


async def test_a_default_fake_retries_a_failing_receiver_in_about_a_second(
    receiver: Receiver,
) -> None:
    """Without any scaling option, a failing receiver does not block a test for 35 hours."""
    assert sum(DEFAULT_RETRY_SCHEDULE) * DEFAULT_TIME_SCALE < 2.0
    async with FakeLettr() as fake:
        assert fake.delivery_time_scale == DEFAULT_TIME_SCALE
        fake.add_webhook(
            name="Failing",
            url=receiver.url("/hooks/basic"),
            auth_type="basic",
            auth_username=USER,
            auth_password="wrong",  # every attempt gets 401
        )
        # The bound only turns the old 35-hour default into a failure instead of a hang.
        (report,) = await asyncio.wait_for(fake.deliver(["message.delivery"]), timeout=120)
    assert len(report.attempts) == ATTEMPTS
    assert {status for status, _ in report.attempts} == {401}
    assert not report.delivered


async def test_a_hostile_token_endpoint_is_a_failed_attempt(
    fake: FakeLettr, receiver: Receiver
) -> None:
    _oauth_hook(fake, receiver, "/oauth/hostile")
    receiver.hostile_token_body = b"[" * 60_000  # RecursionError in json.loads, any Python
    (report,) = await fake.deliver(["message.delivery"], retry_schedule=[0.0])
    assert report.attempts == ((None, "token endpoint answered with invalid JSON"),) * 2
    assert not report.delivered


async def test_a_huge_token_answer_is_refused_unread(fake: FakeLettr, receiver: Receiver) -> None:
    _oauth_hook(fake, receiver, "/oauth/hostile")
    padding = b" " * MAX_TOKEN_ANSWER_BYTES
    receiver.hostile_token_body = b'{"access_token": "' + TOKEN.encode() + b'"}' + padding
    (report,) = await fake.deliver(["message.delivery"], retry_schedule=[])
    expected = f"token endpoint answer is over {MAX_TOKEN_ANSWER_BYTES} bytes"
    assert report.attempts == ((None, expected),)
    assert receiver.seen_by("bearer") == []


@pytest.mark.parametrize(
    "expires_in", [b"1" + b"0" * 400, b'"' + b"9" * 5000 + b'"', b"1e999", b"-5", b'"12a"']
)
async def test_unusable_expires_in_means_no_expiry(
    fake: FakeLettr, receiver: Receiver, expires_in: bytes
) -> None:
    _oauth_hook(fake, receiver, "/oauth/hostile")
    receiver.hostile_token_body = (
        b'{"access_token": "' + TOKEN.encode() + b'", "expires_in": ' + expires_in + b"}"
    )
    (report,) = await fake.deliver(["message.delivery"], retry_schedule=[])
    assert report.delivered, report.attempts


async def test_deliver_sync_refuses_the_fakes_own_loop(fake: FakeLettr) -> None:
    with pytest.raises(RuntimeError, match="await deliver"):
        fake.deliver_sync(["message.delivery"])


def test_deliver_sync_needs_a_started_fake() -> None:
    with pytest.raises(RuntimeError, match="not started"):
        FakeLettr().deliver_sync(["message.delivery"])


async def test_deliver_rejects_other_inputs(fake: FakeLettr) -> None:
    with pytest.raises(TypeError, match="cannot deliver int"):
        await fake.deliver([42])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="unknown event type"):
        await fake.deliver(["message.nope"])


async def test_reset_forgets_deliveries(fake: FakeLettr, receiver: Receiver) -> None:
    fake.add_webhook(name="Open", url=receiver.url("/hooks/open"))
    await fake.deliver(["message.delivery"])
    fake.reset()
    assert fake.deliveries == []


# ------------------------------------------------------------- event factories


@pytest.mark.parametrize("name", EVENT_TYPES)
def test_make_event_round_trips_every_type(name: str) -> None:
    item = make_event(name, recipient="Someone@Example.com", rcpt_meta={"k": "v"})
    assert event_type_of(item) == name
    ((_family, inner),) = item["msys"].items()
    assert inner["type"] == name.split(".", 1)[1]
    assert inner["timestamp"].isdigit()
    assert inner["event_id"].isdigit()
    (event,) = parse_events(json.dumps([item]).encode())
    assert event.type == name
    assert event.id == inner["event_id"]
    assert event.recipient == "someone@example.com"
    assert event.timestamp is not None
    if not name.startswith("relay."):
        assert event.metadata == {"k": "v"}
        assert event.message_id


def test_make_event_extras_and_names() -> None:
    bounce = make_event("bounce")["msys"]["message_event"]
    assert {"bounce_class", "reason", "raw_reason", "error_code"} <= bounce.keys()
    click = make_event("engagament.click")["msys"]["track_event"]
    assert {"target_link_url", "user_agent", "geo_ip"} <= click.keys()
    relay = make_event("relay_permfail")["msys"]["relay_event"]
    assert {"relay_id", "msg_from", "reason"} <= relay.keys()
    assert make_event("delivery", event_id="1")["msys"]["message_event"]["event_id"] == "1"
    a, b = make_events("delivery", "delivery")
    assert a["msys"]["message_event"]["event_id"] != b["msys"]["message_event"]["event_id"]
    with pytest.raises(ValueError, match="unknown event type"):
        make_event("message.nope")
    assert event_type_of({"msys": {"message_event": {"type": "teleport"}}}) is None
    assert event_type_of({"nope": 1}) is None


# ------------------------------------------------------------ Django receiver


@pytest.fixture
def django_live_server() -> Iterator[str]:
    """The events tests' Django app behind a real threaded WSGI server on 127.0.0.1."""
    with live_django.django_live_server() as base_url:
        yield base_url


def test_django_receiver_end_to_end(fake_thread: FakeLettr, django_live_server: str) -> None:
    from tests.events.django_app import settings as app_settings
    from tests.events.django_app import urls

    good = fake_thread.add_webhook(
        name="Django",
        url=f"{django_live_server}/hooks/basic/",
        auth_type="basic",
        auth_username=app_settings.USERNAME,
        auth_password=app_settings.PASSWORD,
        events=["message.delivery", "message.bounce"],
    )
    bad = fake_thread.add_webhook(
        name="Django, wrong password",
        url=f"{django_live_server}/hooks/basic/?wrong",
        auth_type="basic",
        auth_username=app_settings.USERNAME,
        auth_password="wrong",
        events=["message.bounce"],
    )
    batch = [
        make_event("message.delivery", recipient="ann@example.com"),
        make_event("message.bounce", recipient="bob@example.com"),
        make_event("engagement.open"),
    ]

    reports = fake_thread.deliver_sync(batch, time_scale=SCALE)
    again = fake_thread.deliver_sync(batch[:1], time_scale=SCALE)  # a duplicate

    by_id = {r.webhook_id: r for r in reports}
    assert by_id[good["id"]].attempts == ((200, None),)
    assert by_id[bad["id"]].attempts == ((401, None),) * ATTEMPTS
    assert [r.attempts for r in again] == [((200, None),)]
    calls = urls.recorder.calls  # the duplicate was dropped: one call
    assert len(calls) == 1
    assert types_of(calls[0]) == ["message.delivery", "message.bounce"]
    assert [e.recipient for e in calls[0]] == ["ann@example.com", "bob@example.com"]
    assert fake_thread.webhooks[good["id"]]["last_status"] == "success"
    assert fake_thread.webhooks[bad["id"]]["last_status"] == "failure"


# ----------------------------------------------- trigger: the engine, public


async def test_trigger_signs_batches_repeats_and_reports_every_attempt(
    receiver: Receiver,
) -> None:
    seen: list[AttemptResult] = []
    endpoint = Endpoint(receiver.url("/hooks/signed"), signing_secret=SIGNING_SECRET)

    reports = await trigger(
        endpoint,
        ["delivery", "bounce", "engagament.click"],
        batch_size=2,
        repeat=1,
        fields={"rcpt_to": "Zoe@Example.com"},
        on_attempt=seen.append,
    )

    assert [r.attempts for r in reports] == [((200, None),)] * 4
    assert all(r.delivered and r.webhook_id is None for r in reports)
    assert len(seen) == 4
    assert all(result.number == 1 and result.latency >= 0 for result in seen)
    bodies = [s.body for s in receiver.seen_by("signed")]
    assert len(bodies) == 4
    assert bodies[0] == bodies[1]  # a repeat is byte for byte the same
    assert bodies[2] == bodies[3]
    assert bodies[0] != bodies[2]
    batches = receiver.events["signed"]  # the repeats were duplicates: dropped
    assert [types_of(b) for b in batches] == [
        ["message.delivery", "message.bounce"],
        ["engagement.click"],
    ]
    assert {e.raw_rcpt_to for b in batches for e in b} == {"Zoe@Example.com"}
    a, b, c = ({"msys": {"message_event": {"event_id": n}}} for n in "abc")
    assert plan_posts([a, b, c], 2, 1) == [([a, b], 0), ([a, b], 1), ([c], 0), ([c], 1)]


async def test_trigger_retries_on_the_scaled_schedule_and_stops_on_410(
    receiver: Receiver,
) -> None:
    failing = Endpoint(
        receiver.url("/hooks/basic"), auth_type="basic", auth_username=USER, auth_password="no"
    )
    (refused,) = await trigger(failing, ["delivery"], time_scale=SCALE)
    (gone,) = await trigger(receiver.url("/hooks/gone"), ["delivery"], time_scale=1.0)
    (once,) = await trigger(failing, ["delivery"], retry=False)

    assert [r.delay for r in refused.results] == [0.0] + [d * SCALE for d in DEFAULT_RETRY_SCHEDULE]
    assert refused.attempts == ((401, None),) * ATTEMPTS
    assert (gone.attempts, gone.disabled, gone.delivered) == (((410, None),), True, False)
    assert once.attempts == ((401, None),)


async def test_fake_deliver_reports_through_the_same_engine(
    fake: FakeLettr, receiver: Receiver
) -> None:
    fake.add_webhook(name="Echo", url=receiver.url("/hooks/echo"))
    (report,) = await fake.deliver(["message.delivery"], retry_schedule=[])
    (result,) = report.results
    assert (result.status, result.answer_truncated) == (500, True)
    assert result.answer.startswith("you said \x1b]0;pwned\x07y")
    assert len(result.answer) == MAX_ANSWER_BYTES


async def test_sender_settings_are_checked_before_sending() -> None:
    cases: list[tuple[Callable[[], object], str]] = [
        (lambda: WebhookSender("ftp://example.com/"), "url: must be an absolute"),
        (lambda: WebhookSender(Endpoint("http://h/", auth_type="digest")), "auth_type"),
        (lambda: WebhookSender(Endpoint("http://h/", auth_type="basic")), "auth_username"),
        (
            lambda: WebhookSender(
                Endpoint("http://h/", auth_type="oauth2", oauth_token_url="http://t/")
            ),
            "oauth_client_id",
        ),
        (lambda: WebhookSender("http://h/", time_scale=float("nan")), "time_scale"),
        (lambda: WebhookSender("http://h/", timeout=0), "timeout"),
        (lambda: WebhookSender("http://h/", retry_schedule=[-1.0]), "retry_schedule"),
    ]
    for build, field in cases:
        with pytest.raises(ValueError, match=field):
            build()
    with pytest.raises(ValueError, match="batch_size"):
        await trigger("http://h/", ["delivery"], batch_size=0)
    with pytest.raises(ValueError, match="repeat"):
        await trigger("http://h/", ["delivery"], repeat=-1)
    with pytest.raises(ValueError, match="nothing to deliver"):
        await trigger("http://h/", [])
    with pytest.raises(RuntimeError, match="async with"):
        await WebhookSender("http://h/").send([])


def test_endpoint_repr_hides_secrets() -> None:
    endpoint = Endpoint(
        "https://user:url-pass@h.example/x",
        auth_type="oauth2",
        oauth_token_url="https://id:token-url-pass@t.example/token",
        oauth_client_id="client",
        oauth_client_secret=CLIENT_SECRET,
        signing_secret=SIGNING_SECRET,
    )
    text = repr(endpoint)
    for secret in ("url-pass", "token-url-pass", CLIENT_SECRET, SIGNING_SECRET):
        assert secret not in text
    assert "https://***@h.example/x" in text
    # What reports mask: passwords in either URL too.
    assert {"url-pass", "token-url-pass", CLIENT_SECRET, SIGNING_SECRET} <= set(endpoint.secrets())
