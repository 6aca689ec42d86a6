"""``client.webhooks``: the webhooks resource as coroutines.

Signatures follow Lettr's own Python SDK so existing code runs unchanged;
every method also takes ``timeout`` and ``max_retries`` for this call. This
class is the single source of the sync facade: ``lettr_sync`` is generated
from its public coroutines, so a method added here reaches sync users by
running the generator.
"""

from __future__ import annotations

import builtins
import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from .._converter import (
    MessageEnvelope,
    WebhookEnvelope,
    WebhookListEnvelope,
    structure_response,
    unstructure_request,
)
from .._params import (
    CREATE_FIELDS,
    UPDATE_FIELDS,
    build_create_params,
    build_update_params,
    webhook_path,
)
from ..bulk import BulkResult, ProgressCallback, run_bulk
from ..declarative import ApplyResult, DesiredState, LockFile, Plan, apply_plan, build_plan
from ..errors import ValidationError
from ..models import Webhook
from ..types import AuthType, EventsMode

if TYPE_CHECKING:
    from .._client import AsyncLettr

__all__ = ["AsyncWebhooks"]

DEFAULT_BULK_CONCURRENCY = 16

_Item = TypeVar("_Item")


class AsyncWebhooks:
    """Manage webhook endpoints: list, get, create, update, delete, and in bulk."""

    def __init__(self, client: AsyncLettr) -> None:
        self._client = client

    async def list(
        self, *, timeout: float | None = None, max_retries: int | None = None
    ) -> builtins.list[Webhook]:
        """List every webhook of the team (the API does not paginate)."""
        body = await self._client._request(
            "GET", "/webhooks", idempotent=True, timeout=timeout, max_retries=max_retries
        )
        return structure_response(body, WebhookListEnvelope).data.webhooks

    async def get(
        self, webhook_id: str, *, timeout: float | None = None, max_retries: int | None = None
    ) -> Webhook:
        """Fetch one webhook by id; raises ``NotFoundError`` when there is none."""
        body = await self._client._request(
            "GET",
            webhook_path(webhook_id),
            idempotent=True,
            timeout=timeout,
            max_retries=max_retries,
        )
        return structure_response(body, WebhookEnvelope).data

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
        timeout: float | None = None,
        max_retries: int | None = None,
    ) -> Webhook:
        """Create a webhook; arguments are validated before anything is sent.

        ``auth_type="basic"`` needs ``auth_username`` and ``auth_password``;
        ``"oauth2"`` needs the three ``oauth_*`` fields. ``events_mode=
        "selected"`` needs a non-empty ``events`` list (short and legacy
        names are normalised); ``"all"`` takes none. A create is retried
        only when the request provably never reached the server.
        """
        params = build_create_params(
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
        body = await self._client._request(
            "POST",
            "/webhooks",
            body=unstructure_request(params),
            idempotent=False,
            timeout=timeout,
            max_retries=max_retries,
        )
        return structure_response(body, WebhookEnvelope).data

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
        timeout: float | None = None,
        max_retries: int | None = None,
    ) -> Webhook:
        """Change only the given fields of a webhook (sent as PUT).

        ``active`` enables or disables it (the response calls it
        ``enabled``). ``target`` is the deprecated alias of ``url``.
        Passing no field at all is a ``ValidationError``.
        """
        path = webhook_path(webhook_id)
        params = build_update_params(
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
        body = await self._client._request(
            "PUT",
            path,
            body=unstructure_request(params),
            idempotent=True,
            timeout=timeout,
            max_retries=max_retries,
        )
        return structure_response(body, WebhookEnvelope).data

    async def delete(
        self, webhook_id: str, *, timeout: float | None = None, max_retries: int | None = None
    ) -> None:
        """Delete a webhook; raises ``NotFoundError`` when there is none."""
        body = await self._client._request(
            "DELETE",
            webhook_path(webhook_id),
            idempotent=True,
            timeout=timeout,
            max_retries=max_retries,
        )
        structure_response(body or {}, MessageEnvelope)

    async def update_many(
        self,
        updates: Mapping[str, Mapping[str, Any]] | Iterable[tuple[str, Mapping[str, Any]]],
        *,
        concurrency: int = DEFAULT_BULK_CONCURRENCY,
        fail_fast: bool = False,
        on_progress: ProgressCallback | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
    ) -> BulkResult[Webhook]:
        """Apply many partial updates concurrently, as fast as the rate limit allows.

        ``updates`` maps webhook ids to ``update`` fields, or is an iterable
        of ``(webhook_id, fields)`` pairs. Every item is validated before
        any is sent. The result holds one outcome per item, in input order.
        """
        pairs = updates.items() if isinstance(updates, Mapping) else updates

        def prepare(index: int, pair: tuple[str, Mapping[str, Any]]) -> _Prepared:
            webhook_id, fields = pair
            path = webhook_path(webhook_id)
            _check_field_names(fields, UPDATE_FIELDS)
            params = build_update_params(**fields)
            return _Prepared(webhook_id, "PUT", path, unstructure_request(params))

        calls = _prepare_all(pairs, prepare, "updates", "update_many")
        return await self._run(calls, concurrency, fail_fast, on_progress, timeout, max_retries)

    async def delete_many(
        self,
        webhook_ids: Iterable[str],
        *,
        concurrency: int = DEFAULT_BULK_CONCURRENCY,
        fail_fast: bool = False,
        on_progress: ProgressCallback | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
    ) -> BulkResult[None]:
        """Delete many webhooks concurrently; one outcome per id, in input order."""
        if isinstance(webhook_ids, str):
            raise ValidationError(
                "invalid arguments for delete_many",
                errors={"webhook_ids": ["must be a list of ids, not a string."]},
            )

        def prepare(index: int, webhook_id: str) -> _Prepared:
            return _Prepared(webhook_id, "DELETE", webhook_path(webhook_id))

        calls = _prepare_all(webhook_ids, prepare, "webhook_ids", "delete_many")
        return await self._run(calls, concurrency, fail_fast, on_progress, timeout, max_retries)

    async def create_many(
        self,
        items: Iterable[Mapping[str, Any]],
        *,
        concurrency: int = DEFAULT_BULK_CONCURRENCY,
        fail_fast: bool = False,
        on_progress: ProgressCallback | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
    ) -> BulkResult[Webhook]:
        """Create many webhooks; each item holds ``create``'s keyword arguments.

        Outcome keys are the items' indexes. Every item is validated first.
        """

        def prepare(index: int, fields: Mapping[str, Any]) -> _Prepared:
            _check_field_names(fields, CREATE_FIELDS)
            params = build_create_params(**fields)
            return _Prepared(index, "POST", "/webhooks", unstructure_request(params))

        calls = _prepare_all(items, prepare, "items", "create_many")
        return await self._run(calls, concurrency, fail_fast, on_progress, timeout, max_retries)

    # -- bulk plumbing ----------------------------------------------------------------

    async def _run(
        self,
        prepared: builtins.list[_Prepared],
        concurrency: int,
        fail_fast: bool,
        on_progress: ProgressCallback | None,
        timeout: float | None,
        max_retries: int | None,
    ) -> BulkResult[Any]:
        if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
            raise ValidationError(
                "invalid concurrency", errors={"concurrency": ["must be a positive integer."]}
            )
        options = self._client._options(timeout, max_retries)
        client = self._client.with_options(timeout=options.timeout, max_retries=options.max_retries)
        calls = [(item.key, functools.partial(item.send, client)) for item in prepared]
        return await run_bulk(
            calls, concurrency=concurrency, fail_fast=fail_fast, on_progress=on_progress
        )

    # -- webhooks as code (lettr_async.declarative) -----------------------------------

    async def plan(
        self,
        desired: DesiredState,
        *,
        prune: bool = False,
        rotate: bool | Iterable[str] = False,
        timeout: float | None = None,
        max_retries: int | None = None,
    ) -> Plan:
        """Diff a webhooks file (``declarative.load_config``) against the live list.

        Sends one ``list`` and nothing else. ``prune=True`` also plans the
        deletion of live endpoints inside the file's ``[ownership]`` scope that
        the file no longer lists. ``rotate`` (True, or entry names/URLs) sends
        credentials again even when their fingerprint is unchanged.
        """
        live = await self.list(timeout=timeout, max_retries=max_retries)
        rotating = rotate if isinstance(rotate, bool) else frozenset(rotate)
        lock = LockFile.load(desired.lock_path)
        return build_plan(desired, live, lock=lock, prune=prune, rotate=rotating)

    async def apply(
        self,
        plan: Plan,
        *,
        concurrency: int = DEFAULT_BULK_CONCURRENCY,
        on_progress: ProgressCallback | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
    ) -> ApplyResult:
        """Apply a plan: one ``list``, then one request per change, rate-limited.

        Raises ``StalePlanError`` before sending anything when the live
        endpoints changed since the plan was made. Returns one outcome per
        change; updates the plan's lock file with salted credential
        fingerprints (never the credentials).
        """
        return await apply_plan(
            self,
            plan,
            concurrency=concurrency,
            on_progress=on_progress,
            timeout=timeout,
            max_retries=max_retries,
        )


@attrs.frozen
class _Prepared:
    """One validated bulk request, waiting for its turn."""

    key: str | int
    method: str
    path: str
    body: dict[str, Any] | None = None

    async def send(self, client: AsyncLettr) -> Webhook | None:
        response = await client._request(
            self.method, self.path, body=self.body, idempotent=self.method != "POST"
        )
        if self.method == "DELETE":
            structure_response(response or {}, MessageEnvelope)
            return None
        return structure_response(response, WebhookEnvelope).data


def _check_field_names(fields: Any, allowed: frozenset[str]) -> None:
    if not isinstance(fields, Mapping):
        raise TypeError(f"must be a mapping of fields, not {type(fields).__name__}")
    unknown = sorted(str(name) for name in fields if name not in allowed)
    if unknown:
        raise ValidationError(
            "unknown fields",
            errors={name: ["is not a field of this operation."] for name in unknown},
        )


def _prepare_all(
    items: Iterable[_Item],
    prepare: Callable[[int, _Item], _Prepared],
    name: str,
    what: str,
) -> builtins.list[_Prepared]:
    """Validate every bulk item before any is sent; one error names them all."""
    errors: dict[str, builtins.list[str]] = {}
    prepared: builtins.list[_Prepared] = []
    for index, item in enumerate(items):
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
