"""``export``: the TOML file describing the endpoints that exist today.

Credentials cannot be exported (Lettr never returns them), so each endpoint
with authentication gets env references named after it, e.g.
``{ env = "LETTR_WEBHOOK_ORDERS_PASSWORD" }``: set those variables before the
first apply. Nothing masked or made up is ever written as a value.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

from ..models import Webhook
from ..types import AuthType
from ._config import CREDENTIAL_FIELDS

__all__ = ["export_toml", "env_name_for"]

_SUFFIX = {
    "auth_username": "USERNAME",
    "auth_password": "PASSWORD",
    "oauth_client_id": "CLIENT_ID",
    "oauth_client_secret": "CLIENT_SECRET",
    "oauth_token_url": "TOKEN_URL",
}


def env_name_for(webhook: Webhook, field: str) -> str:
    """The environment variable name ``export`` suggests for one credential field."""
    slug = re.sub(r"[^A-Za-z0-9]+", "_", webhook.name).strip("_").upper() or webhook.id.upper()
    slug = re.sub(r"[^A-Z0-9]+", "_", slug)
    return f"LETTR_WEBHOOK_{slug}_{_SUFFIX[field]}"


# TOML refuses DEL raw (json.dumps leaves it); C1 and bidi controls are legal but
# would make the file read differently from what it holds, so they are escaped too.
_ESCAPED = re.compile(r"[\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# TOML strings hold Unicode scalar values only: a lone surrogate has no spelling.
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_REPLACEMENT = "\ufffd"


def _string(value: str) -> str:
    # JSON string escapes are valid TOML basic-string escapes; "${" is escaped so
    # that loading the file gives back this exact text, not an interpolation.
    text = json.dumps(_SURROGATE.sub(_REPLACEMENT, value.replace("${", "$${")), ensure_ascii=False)
    return _ESCAPED.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _unrepresentable(webhook: Webhook) -> list[str]:
    """Comment lines for values TOML cannot hold (written with U+FFFD instead)."""
    fields = [f for f in ("name", "url") if _SURROGATE.search(getattr(webhook, f))]
    if not fields:
        return []
    return [
        f"# {_string(webhook.id)}: the {' and '.join(fields)} from Lettr held lone surrogates,",
        "# which TOML cannot hold; written as U+FFFD here, so applying this file changes them.",
    ]


def export_toml(webhooks: Sequence[Webhook]) -> str:
    """A webhooks file that, once its env variables are set, plans to no changes.

    Every string loads back exactly (control characters escaped), except lone
    surrogates, which TOML cannot hold: a comment above the entry says so.
    """
    lines = [
        "# Exported by lettr-webhooks export. Credentials are never returned by Lettr:",
        "# set the environment variables named below before the first apply.",
        "version = 1",
    ]
    used: set[str] = set()
    for webhook in sorted(webhooks, key=lambda w: (w.name, w.url)):
        lines.append("")
        lines.extend(_unrepresentable(webhook))
        lines.append("[[webhooks]]")
        lines.append(f"name = {_string(webhook.name)}")
        lines.append(f"url = {_string(webhook.url)}")
        lines.append(f"enabled = {'true' if webhook.enabled else 'false'}")
        if webhook.event_types is None:
            lines.append('events = "all"')
        else:
            events = ", ".join(_string(e) for e in sorted(set(webhook.event_types)))
            lines.append(f"events = [{events}]")
        auth_type = AuthType(webhook.auth_type)
        lines.append(f"auth_type = {_string(auth_type.value)}")
        for field in CREDENTIAL_FIELDS[auth_type]:
            name = env_name_for(webhook, field)
            while name in used:
                name = f"{name}_{re.sub(r'[^A-Z0-9]+', '_', webhook.id.upper())}"
            used.add(name)
            lines.append(f"{field} = {{ env = {_string(name)} }}")
    return "\n".join(lines) + "\n"
