"""Exceptions raised while receiving webhook deliveries.

They are ``LettrError`` subclasses, so one ``except LettrError`` covers the
whole SDK, and also ``ValueError`` subclasses, because both describe bad
input rather than a failure of the SDK.
"""

from __future__ import annotations

from lettr_async.errors import LettrError

__all__ = ["WebhookPayloadError", "WebhookVerificationError"]


class WebhookPayloadError(LettrError, ValueError):
    """A delivery body is not the JSON array of event objects Lettr sends.

    Raised so a receiver can answer ``400`` instead of crashing: a body that
    cannot be parsed will not parse on a retry either.
    """


class WebhookVerificationError(LettrError, ValueError):
    """A delivery failed an authenticity check (credentials or signature).

    ``reason`` is a short machine-readable code (``missing_header``,
    ``malformed_header``, ``timestamp_out_of_tolerance``,
    ``no_matching_signature``, ``bad_credentials``) so callers can log or
    count failures without parsing the message. Neither the message nor the
    code ever contains a secret.
    """

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason
