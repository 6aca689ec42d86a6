"""Shared helpers of the webhooks-as-code tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lettr_async.declarative import DesiredState, load_config
from lettr_async.testing import FakeLettr

PASSWORD = "orders-hook-pa55word-Zq9"
"""A credential value; no output of any kind may contain it."""
CLIENT_SECRET = "oauth-client-s3cret-Xv7"
"""Another credential value that must never leak."""
ENV = {
    "APP_HOST": "https://shop.example.com",
    "ORDERS_HOOK_PASSWORD": PASSWORD,
    "CRM_CLIENT_SECRET": CLIENT_SECRET,
}

CONFIG = """\
version = 1

[ownership]
name_prefix = "shop-"

[[webhooks]]
name = "shop-orders"
url = "${APP_HOST}/hooks/orders"
events = ["message.delivery", "bounce"]
auth_type = "basic"
auth_username = "lettr"
auth_password = { env = "ORDERS_HOOK_PASSWORD" }

[[webhooks]]
name = "shop-crm"
url = "${APP_HOST}/hooks/crm"
events = "all"
auth_type = "oauth2"
oauth_client_id = "crm-client"
oauth_client_secret = { env = "CRM_CLIENT_SECRET" }
oauth_token_url = "${APP_HOST}/oauth/token"

[[webhooks]]
name = "shop-audit"
url = "${APP_HOST}/hooks/audit"
enabled = false
"""


def write_config(directory: Path, text: str = CONFIG) -> Path:
    """Write ``text`` as ``lettr-webhooks.toml`` in ``directory``; return its path."""
    path = directory / "lettr-webhooks.toml"
    path.write_text(text, encoding="utf-8")
    return path


def load(path: Path, **env: str) -> DesiredState:
    """Load ``path`` with ``ENV`` plus overrides as the environment."""
    return load_config(path, env={**ENV, **env})


def bodies(fake: FakeLettr, method: str) -> list[Any]:
    """The JSON bodies of the requests with ``method``."""
    return [r.json for r in fake.requests if r.method == method]


def live_urls(fake: FakeLettr) -> list[str]:
    """The URLs of the fake's webhooks, sorted."""
    return sorted(w["url"] for w in fake.webhooks.values())
