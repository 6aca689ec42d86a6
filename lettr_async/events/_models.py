"""Typed, immutable models of the events Lettr delivers to webhooks.

Events are plain frozen ``attrs`` classes: cheap to build, hashable where
it matters, and usable with ``isinstance`` or ``match`` on the subclasses
(``BounceEvent``, ``ClickEvent``, ``OpenEvent``, ``RelayEvent``). Every event
keeps the untouched inner JSON object in ``raw``, so fields this SDK does not
model yet are never lost.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs

from lettr_async.types import is_known_event_type

__all__ = ["BounceEvent", "ClickEvent", "OpenEvent", "RelayEvent", "WebhookEvent"]


@attrs.frozen(kw_only=True)
class WebhookEvent:
    """One event of a webhook delivery, with the fields common to all events.

    Why a class rather than a dict: typed attribute access for the fields every
    handler needs (``type``, ``id``, ``recipient``...), while ``raw`` keeps the
    full inner object for anything else.

    ``type`` is the canonical name (``message.delivery``,
    ``engagement.click``) when Lettr's short name is known, else
    ``"<category>.<type>"`` so new event types still arrive with a usable,
    unique name. ``category`` is ``message``, ``engagement``, ``generation``,
    ``unsubscribe`` or ``relay``, or the raw family key (``ab_test_event``)
    for families this SDK does not know. ``family`` is always the raw key
    (``track_event``). ``timestamp`` is an aware UTC datetime, or ``None``
    when missing or unreadable. ``metadata`` is the ``rcpt_meta`` object given
    at send time.
    """

    type: str
    category: str
    family: str
    id: str | None = None
    timestamp: datetime | None = None
    message_id: str | None = None
    recipient: str | None = None
    transmission_id: str | None = None
    raw_rcpt_to: str | None = None
    friendly_from: str | None = None
    subject: str | None = None
    campaign_id: str | None = None
    template_id: str | None = None
    metadata: Mapping[str, Any] = attrs.field(factory=dict, hash=False)
    tags: tuple[str, ...] = ()
    raw: Mapping[str, Any] = attrs.field(factory=dict, hash=False, repr=False)

    @property
    def is_known_type(self) -> bool:
        """Tell whether ``type`` is one of the 22 documented event types.

        Lets handlers log or ignore event types newer than this SDK.
        """
        return is_known_event_type(self.type)


@attrs.frozen(kw_only=True)
class BounceEvent(WebhookEvent):
    """A ``message.bounce`` or ``message.out_of_band`` event.

    Separate so handlers can react to bounces (suppress the address) by type,
    with the bounce classification at hand: ``bounce_class`` (SparkPost's
    numeric class, as a string), ``reason`` (sanitised), ``raw_reason`` (the
    remote server's text) and ``error_code`` (the SMTP code).
    """

    bounce_class: str | None = None
    reason: str | None = None
    raw_reason: str | None = None
    error_code: str | None = None


@attrs.frozen(kw_only=True)
class OpenEvent(WebhookEvent):
    """An open: ``engagement.open``, ``initial_open``, ``amp_open``, ``amp_initial_open``.

    Separate so engagement analytics can rely on ``user_agent`` and
    ``geo_ip`` (the raw ``geo_ip`` object: country, region, city...).
    """

    user_agent: str | None = None
    geo_ip: Mapping[str, Any] | None = attrs.field(default=None, hash=False)
    ip_address: str | None = None


@attrs.frozen(kw_only=True)
class ClickEvent(WebhookEvent):
    """A click: ``engagement.click`` or ``engagement.amp_click``.

    Separate so link analytics get ``target_link_url`` (the original URL the
    recipient followed) next to ``user_agent`` and ``geo_ip``.
    """

    target_link_url: str | None = None
    target_link_name: str | None = None
    user_agent: str | None = None
    geo_ip: Mapping[str, Any] | None = attrs.field(default=None, hash=False)
    ip_address: str | None = None


@attrs.frozen(kw_only=True)
class RelayEvent(WebhookEvent):
    """An inbound-relay status event (``relay.relay_delivery``, ``relay_permfail``...).

    Separate because relay events describe inbound mail, not a transmission:
    they carry ``relay_id`` (the relay webhook), ``msg_from`` (envelope
    sender; ``recipient`` is the inbound address), and on failures
    ``error_code``, ``reason`` and ``raw_reason``; rejections add
    ``remote_addr``.
    """

    relay_id: str | None = None
    msg_from: str | None = None
    error_code: str | None = None
    reason: str | None = None
    raw_reason: str | None = None
    remote_addr: str | None = None
    num_retries: str | None = None
