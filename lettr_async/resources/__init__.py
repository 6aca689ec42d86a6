"""API resources, one module each; the coroutines the sync facade is generated from."""

from .webhooks import AsyncWebhooks

__all__ = ["AsyncWebhooks"]
