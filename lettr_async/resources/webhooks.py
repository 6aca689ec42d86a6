"""``client.webhooks``: the webhooks resource as coroutines.

Signatures follow Lettr's own Python SDK; every method also takes
``timeout`` and ``max_retries`` for this call (``NOT_GIVEN``: the client's
setting; ``timeout=None``: no timeout). Each operation is one private
coroutine (``_get``, ``_create``...) that both the single call and the bulk
items await, so whatever the pipeline does reaches both. This class is the
single source of the sync facade: ``lettr_sync`` is generated from its
public coroutines, so a method added here reaches sync users by running the
generator.
"""

from __future__ import annotations

import builtins
import functools
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from .._converter import (
    MessageEnvelope,
    WebhookListEnvelope,
    structure_response,
    structure_webhook,
)
from .._deprecation import ALIASES
from .._pipeline import ApiRequest, CallOptions
from .._sentinel import NOT_GIVEN, NotGiven
from .._validation import check_positive_int, invalid
from ..bulk import (
    DEFAULT_BULK_CONCURRENCY,
    BulkLedger,
    BulkResult,
    ProgressCallback,
    run_bulk,
)
from ..errors import ValidationError
from ..models import Webhook
from ..types import AuthType, EventsMode, WebhookCreateFields, WebhookUpdateFields
from ._params import build_create_params, build_update_params, webhook_path

if TYPE_CHECKING:
    from .._pipeline import ApiChannel

__all__ = ["DEPRECATED_ALIASES", "AsyncWebhooks"]

DEPRECATED_ALIASES: dict[str, dict[str, str]] = {"update": dict(ALIASES)}
"""Deprecated keyword -> replacement, per method; the sync codegen resolves these in the
caller's thread (in the portal's loop the warning could not name the caller's line)."""

_Item = TypeVar("_Item")
_V = TypeVar("_V")


class AsyncWebhooks:
    """Manage webhook endpoints: list, get, create, update, delete, and in bulk."""

    def __init__(self, channel: ApiChannel) -> None:
        self._api = channel

    async def list(
        self,
        *,
        timeout: float | NotGiven | None = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> builtins.list[Webhook]:
        """List every webhook of the team (the API does not paginate)."""
        options = self._api.options(timeout, max_retries)
        body = await self._api.send(ApiRequest("GET", "/webhooks"), options)
        return structure_response(body, WebhookListEnvelope).data.webhooks

    async def get(
        self,
        webhook_id: str,
        *,
        timeout: float | NotGiven | None = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> Webhook:
        """Fetch one webhook by id; raises ``NotFoundError`` when there is none."""
        # The hottest call: no option merging when none is given, and the
        # pipeline awaited here rather than through ``_webhook`` (one
        # coroutine less); it is what ``_webhook`` does.
        api = self._api
        options = (
            api.defaults
            if timeout is NOT_GIVEN and max_retries is NOT_GIVEN
            else api.options(timeout, max_retries)
        )
        request = (
            _get_webhook(webhook_id)
            if type(webhook_id) is str
            else ApiRequest("GET", webhook_path(webhook_id))  # a str subclass, or the error
        )
        body = await api.send(request, options)
        return structure_webhook(body)

    async def create(
        self,
        *,
        name: str,
        url: str,
        auth_type: AuthType | str,
        events_mode: EventsMode | str,
        auth_username: str | None = None,
        auth_password: str | None = None,
        oauth_client_id: str | None = None,
        oauth_client_secret: str | None = None,
        oauth_token_url: str | None = None,
        events: Sequence[str] | None = None,
        timeout: float | NotGiven | None = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> Webhook:
        """Create a webhook; arguments are validated before anything is sent.

        ``auth_type="basic"`` needs ``auth_username`` and ``auth_password``;
        ``"oauth2"`` needs the three ``oauth_*`` fields. ``events_mode=
        "selected"`` needs a non-empty ``events`` list (short and legacy
        names are normalised); ``"all"`` takes none. A create is retried
        only when the server provably did not process it (a 429, or a
        connection that was never established).
        """
        options = self._api.options(timeout, max_retries)
        body = build_create_params(
            name=name,
            url=url,
            auth_type=auth_type,
            events_mode=events_mode,
            auth_username=auth_username,
            auth_password=auth_password,
            oauth_client_id=oauth_client_id,
            oauth_client_secret=oauth_client_secret,
            oauth_token_url=oauth_token_url,
            events=events,
        )
        return await self._webhook(ApiRequest("POST", "/webhooks", body), options)

    async def update(
        self,
        webhook_id: str,
        *,
        name: str | None = None,
        url: str | None = None,
        target: str | None = None,
        auth_type: AuthType | str | None = None,
        auth_username: str | None = None,
        auth_password: str | None = None,
        oauth_token_url: str | None = None,
        oauth_client_id: str | None = None,
        oauth_client_secret: str | None = None,
        events: Sequence[str] | None = None,
        active: bool | None = None,
        timeout: float | NotGiven | None = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> Webhook:
        """Change only the given fields of a webhook (sent as PUT).

        ``active`` enables or disables it (the response calls it
        ``enabled``). ``target`` is the deprecated alias of ``url``.
        Passing no field at all is a ``ValidationError``.
        """
        options = self._api.options(timeout, max_retries)
        path = webhook_path(webhook_id)
        body = build_update_params(
            name=name,
            url=url,
            target=target,
            auth_type=auth_type,
            auth_username=auth_username,
            auth_password=auth_password,
            oauth_token_url=oauth_token_url,
            oauth_client_id=oauth_client_id,
            oauth_client_secret=oauth_client_secret,
            events=events,
            active=active,
        )
        return await self._webhook(ApiRequest("PUT", path, body), options)

    async def delete(
        self,
        webhook_id: str,
        *,
        timeout: float | NotGiven | None = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> None:
        """Delete a webhook; raises ``NotFoundError`` when there is none."""
        options = self._api.options(timeout, max_retries)
        await self._delete(ApiRequest("DELETE", webhook_path(webhook_id)), options)

    async def update_many(
        self,
        updates: Mapping[str, WebhookUpdateFields] | Sequence[tuple[str, WebhookUpdateFields]],
        *,
        concurrency: int = DEFAULT_BULK_CONCURRENCY,
        fail_fast: bool = False,
        on_progress: ProgressCallback | None = None,
        ledger: BulkLedger[Webhook] | None = None,
        timeout: float | NotGiven | None = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> BulkResult[Webhook]:
        """Apply many partial updates concurrently, as fast as the rate limit allows.

        ``updates`` maps webhook ids to ``update`` fields, or is a list of
        ``(webhook_id, fields)`` pairs (any iterable of pairs works at
        runtime). Every item is validated before any is sent. The result
        holds one outcome per item, in input order; ``ledger`` (a fresh
        ``BulkLedger``) keeps them when the call is cancelled.
        ``timeout`` bounds each item, from the moment its first slot is granted.
        """
        options = self._api.options(timeout, max_retries)
        pairs = updates.items() if isinstance(updates, Mapping) else updates

        def prepare(index: int, pair: Any) -> tuple[str, ApiRequest]:
            webhook_id, fields = pair
            path = webhook_path(webhook_id)
            return webhook_id, ApiRequest("PUT", path, build_update_params(**_fields(fields)))

        calls = _prepare_all(pairs, prepare, "updates", "update_many")
        return await self._bulk(
            calls, self._webhook, options, concurrency, fail_fast, on_progress, ledger
        )

    async def delete_many(
        self,
        webhook_ids: Iterable[str],
        *,
        concurrency: int = DEFAULT_BULK_CONCURRENCY,
        fail_fast: bool = False,
        on_progress: ProgressCallback | None = None,
        ledger: BulkLedger[None] | None = None,
        timeout: float | NotGiven | None = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> BulkResult[None]:
        """Delete many webhooks concurrently; one outcome per id, in input order.

        ``ledger`` (a fresh ``BulkLedger``) keeps the outcomes when the call is cancelled.
        ``timeout`` bounds each item, from the moment its first slot is granted.
        """
        options = self._api.options(timeout, max_retries)
        if isinstance(webhook_ids, str):
            problem = "must be a list of ids, not a string."
            raise invalid("webhook_ids", problem, "webhook_ids for delete_many")

        def prepare(index: int, webhook_id: Any) -> tuple[str, ApiRequest]:
            return webhook_id, ApiRequest("DELETE", webhook_path(webhook_id))

        calls = _prepare_all(webhook_ids, prepare, "webhook_ids", "delete_many")
        return await self._bulk(
            calls, self._delete, options, concurrency, fail_fast, on_progress, ledger
        )

    async def create_many(
        self,
        items: Iterable[WebhookCreateFields],
        *,
        concurrency: int = DEFAULT_BULK_CONCURRENCY,
        fail_fast: bool = False,
        on_progress: ProgressCallback | None = None,
        ledger: BulkLedger[Webhook] | None = None,
        timeout: float | NotGiven | None = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> BulkResult[Webhook]:
        """Create many webhooks; each item holds ``create``'s keyword arguments.

        Outcome keys are the items' indexes. Every item is validated first.
        ``ledger`` (a fresh ``BulkLedger``) keeps the outcomes when the call is
        cancelled; its ``unknown`` items may exist on the server: look before
        creating them again.
        ``timeout`` bounds each item, from the moment its first slot is granted.
        """
        options = self._api.options(timeout, max_retries)

        def prepare(index: int, fields: Any) -> tuple[int, ApiRequest]:
            return index, ApiRequest("POST", "/webhooks", build_create_params(**_fields(fields)))

        calls = _prepare_all(items, prepare, "items", "create_many")
        return await self._bulk(
            calls, self._webhook, options, concurrency, fail_fast, on_progress, ledger
        )

    # -- one coroutine per kind of operation, shared by single and bulk calls ----------

    async def _webhook(self, request: ApiRequest, options: CallOptions) -> Webhook:
        """Send a request whose answer is one webhook (get, create, update)."""
        body = await self._api.send(request, options)
        return structure_webhook(body)

    async def _delete(self, request: ApiRequest, options: CallOptions) -> None:
        """Send a delete; its answer is a message envelope."""
        body = await self._api.send(request, options)
        structure_response(body or {}, MessageEnvelope)

    async def _bulk(
        self,
        calls: builtins.list[tuple[Any, ApiRequest]],
        operation: Callable[[ApiRequest, CallOptions], Awaitable[_V]],
        options: CallOptions,
        concurrency: int,
        fail_fast: bool,
        on_progress: ProgressCallback | None,
        ledger: BulkLedger[_V] | None,
    ) -> BulkResult[_V]:
        check_positive_int("concurrency", concurrency)
        items = [(key, functools.partial(operation, request, options)) for key, request in calls]
        return await run_bulk(items, concurrency, fail_fast, on_progress, ledger)


@functools.lru_cache(maxsize=4096)
def _get_webhook(webhook_id: str) -> ApiRequest:
    """``GET /webhooks/<id>``, validated and built once per id: frozen, and ids repeat."""
    return ApiRequest("GET", webhook_path(webhook_id))


def _fields(fields: Any) -> Mapping[str, Any]:
    if not isinstance(fields, Mapping):
        raise TypeError(f"must be a mapping of fields, not {type(fields).__name__}")
    return fields


def _prepare_all(
    items: Iterable[_Item],
    prepare: Callable[[int, _Item], tuple[Any, ApiRequest]],
    name: str,
    what: str,
) -> builtins.list[tuple[Any, ApiRequest]]:
    """Validate every bulk item before any is sent; one error names them all."""
    errors: dict[str, builtins.list[str]] = {}
    prepared: builtins.list[tuple[Any, ApiRequest]] = []
    try:
        iterator = iter(items)
    except TypeError:
        raise invalid(name, "must be iterable.", f"{name} for webhooks.{what}") from None
    for index, item in enumerate(iterator):
        prefix = f"{name}[{index}]"
        try:
            prepared.append(prepare(index, item))
        except ValidationError as exc:
            for field, messages in exc.errors.items():
                errors.setdefault(f"{prefix}.{field}", []).extend(messages)
        except (TypeError, ValueError) as exc:
            errors.setdefault(prefix, []).append(str(exc))
    if errors:
        raise ValidationError(f"invalid items for webhooks.{what}; nothing was sent", errors=errors)
    return prepared
