"""The webhooks-as-code file: TOML in, a validated ``DesiredState`` out.

The whole file is checked before anything is sent, and every problem is
reported at once, naming the file, the entry and the field. Secrets are never
literal in the file: ``auth_password`` and ``oauth_client_secret`` must be env
references (``{ env = "NAME" }``), so the file can be committed. Any string
may interpolate ``${VAR}`` (``$${`` is a literal ``${``), so one file serves
several environments.

Names, URLs, lengths, auth types, credentials and pinned ids follow the
client's own rules (``lettr_async._validation``), checked after
interpolation: a file that loads never fails those checks mid-apply.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from .. import _validation as rules
from ..types import AuthType, normalize_event_type
from ._bounds import MAX_FILE_BYTES, excess
from ._errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10
    import tomli as tomllib

__all__ = [
    "CREDENTIAL_FIELDS",
    "SECRET_FIELDS",
    "CredentialValue",
    "DesiredState",
    "DesiredWebhook",
    "Ownership",
    "default_lock_path",
    "load_config",
    "parse_config",
]

FORMAT_VERSION = 1
SECRET_FIELDS: frozenset[str] = rules.SECRET_FIELDS
"""Credential fields that must be env references: a literal value is refused.

The client's secret fields (never shown), so the file can be committed.
"""

CREDENTIAL_FIELDS: dict[AuthType, tuple[str, ...]] = {
    auth_type: rules.required_credentials(auth_type.value) for auth_type in AuthType
}
"""The write-only fields each auth type needs (Lettr never returns them)."""

_ALL_CREDENTIALS = frozenset(f for fields in CREDENTIAL_FIELDS.values() for f in fields)
_ENTRY_KEYS = frozenset({"id", "name", "url", "enabled", "events", "auth_type"} | _ALL_CREDENTIALS)
_TOP_KEYS = frozenset({"version", "ownership", "webhooks"})
_OWNERSHIP_KEYS = frozenset({"name_prefix", "url_prefix"})
_VAR = re.compile(r"\$(\$?)\{([^}]*)\}")
_VAR_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


@attrs.frozen
class CredentialValue:
    """One write-only credential: where it comes from and (hidden) its value.

    ``env`` names the environment variable it was read from, or is None for
    a literal non-secret value (a username, client id or token URL). The
    value never appears in ``repr``.
    """

    field: str
    env: str | None
    value: str = attrs.field(repr=False)


@attrs.frozen
class DesiredWebhook:
    """One ``[[webhooks]]`` entry, validated and with env references resolved.

    ``events`` is None for "all events", else canonical names, sorted.
    ``id`` is set when the entry pins an existing endpoint (to change its URL
    in place); otherwise the URL identifies it.
    """

    index: int
    name: str
    url: str
    enabled: bool
    events: tuple[str, ...] | None
    auth_type: AuthType
    credentials: tuple[CredentialValue, ...] = ()
    id: str | None = None

    @property
    def address(self) -> str:
        """How plans and errors name this entry: ``webhooks["<name>"]``."""
        return f"webhooks[{json.dumps(self.name, ensure_ascii=False)}]"


@attrs.frozen
class Ownership:
    """Which live endpoints the file owns, so ``prune`` may delete them.

    An endpoint is owned when it matches every declared prefix; with no
    ownership declared, nothing can ever be pruned.
    """

    name_prefix: str | None = None
    url_prefix: str | None = None

    def owns(self, name: str, url: str) -> bool:
        """True when an endpoint with this name and URL is in the declared scope."""
        if self.name_prefix is not None and not name.startswith(self.name_prefix):
            return False
        return self.url_prefix is None or url.startswith(self.url_prefix)

    def describe(self) -> str:
        """The scope in words, for plans and errors."""
        parts = []
        if self.name_prefix is not None:
            parts.append(f"name starts with {self.name_prefix!r}")
        if self.url_prefix is not None:
            parts.append(f"url starts with {self.url_prefix!r}")
        return " and ".join(parts)


@attrs.frozen
class DesiredState:
    """A whole validated file: the desired endpoints and the ownership scope.

    ``lock_path`` is where credential fingerprints are kept between applies
    (next to the file by default); None keeps no lock, so credentials are
    sent on every apply.
    """

    source: str
    webhooks: tuple[DesiredWebhook, ...]
    ownership: Ownership | None = None
    lock_path: Path | None = None


def default_lock_path(config_path: str | os.PathLike[str]) -> Path:
    """``lettr-webhooks.toml`` -> ``lettr-webhooks.lock.json``, in the same directory."""
    path = Path(config_path)
    return path.with_name(f"{path.stem}.lock.json")


def load_config(
    path: str | os.PathLike[str],
    *,
    env: Mapping[str, str] | None = None,
    lock_path: str | os.PathLike[str] | None = None,
) -> DesiredState:
    """Read and validate a webhooks file; raise ``ConfigError`` naming every problem.

    ``env`` defaults to ``os.environ``; ``lock_path`` defaults to
    ``default_lock_path(path)``.
    """
    source = str(path)
    try:
        with Path(path).open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
        text = data.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"cannot read {source}", {source: [f"cannot read the file ({exc.__class__.__name__})"]}
        ) from None
    lock = Path(lock_path) if lock_path is not None else default_lock_path(path)
    return parse_config(text, source=source, env=env, lock_path=lock)


def parse_config(
    text: str,
    *,
    source: str = "<string>",
    env: Mapping[str, str] | None = None,
    lock_path: str | os.PathLike[str] | None = None,
) -> DesiredState:
    """Validate TOML text as a webhooks file (see ``load_config``).

    Text beyond the bounds of ``_bounds`` (size, nesting, dotted keys) is
    refused before parsing; every parse failure is a ``ConfigError``.
    """
    problem = excess(text)
    if problem is not None:
        raise ConfigError(f"{source} is refused before parsing", {source: [problem]})
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source} is not valid TOML", {source: [str(exc)]}) from None
    except (RecursionError, MemoryError) as exc:  # a backstop: the bounds should prevent these
        raise ConfigError(
            f"{source} is not valid TOML", {source: [f"too deep to parse ({type(exc).__name__})."]}
        ) from None
    checker = _Checker(source, os.environ if env is None else env)
    state = checker.document(document)
    if checker.errors:
        count = sum(len(m) for m in checker.errors.values())
        raise ConfigError(f"{source} has {count} problem(s); nothing was sent", checker.errors)
    assert state is not None
    return attrs.evolve(state, lock_path=Path(lock_path) if lock_path is not None else None)


class _Checker:
    """Collects every error of one file, keyed by file, entry and field."""

    def __init__(self, source: str, env: Mapping[str, str]) -> None:
        self.source = source
        self.env = env
        self.errors: dict[str, list[str]] = {}
        # (index, address, {name, url, id}) of every entry, valid or not:
        # duplicates are reported together with the entries' other problems.
        self.identities: list[tuple[int, str, dict[str, str | None]]] = []

    def key(self, where: str) -> str:
        return f"{self.source}: {where}" if where else self.source

    def add(self, where: str, message: str) -> None:
        self.errors.setdefault(self.key(where), []).append(message)

    def interpolate(self, where: str, value: str) -> str:
        def replace(match: re.Match[str]) -> str:
            if match.group(1):
                return "${" + match.group(2) + "}"
            name = match.group(2)
            if not _VAR_NAME.match(name):
                self.add(where, f"invalid variable reference ${{{name}}}.")
                return ""
            if name not in self.env:
                self.add(where, f"environment variable {name} is not set.")
                return ""
            return self.env[name]

        return _VAR.sub(replace, value)

    def text(self, where: str, value: Any) -> str | None:
        """A TOML string with ``${VAR}`` resolved; the client's rules come after."""
        if not isinstance(value, str):
            self.add(where, f"must be a string, not {_toml_type(value)}.")
            return None
        before = len(self.errors.get(self.key(where), ()))
        result = self.interpolate(where, value)
        # A failed ${VAR} is the one problem: the rules would only judge its stand-in.
        return result if len(self.errors.get(self.key(where), ())) == before else None

    def string(self, where: str, value: Any, *, max_len: int) -> str | None:
        result = self.text(where, value)
        if result is None:
            return None
        return rules.check_str(self, where, result, required=True, max_len=max_len)

    def name(self, where: str, value: Any) -> str | None:
        return self.string(where, value, max_len=rules.NAME_MAX)

    def url(self, where: str, value: Any) -> str | None:
        result = self.text(where, value)
        if result is None:
            return None
        return rules.check_url(self, where, result, required=True)

    def document(self, document: dict[str, Any]) -> DesiredState | None:
        for key in sorted(set(document) - _TOP_KEYS):
            self.add(key, "unknown top-level key.")
        version = document.get("version", FORMAT_VERSION)
        if version != FORMAT_VERSION:
            self.add("version", f"unsupported format version; this SDK reads {FORMAT_VERSION}.")
        ownership = self.ownership(document.get("ownership"))
        raw = document.get("webhooks", [])
        if not isinstance(raw, list) or not all(isinstance(e, dict) for e in raw):
            self.add("webhooks", "must be an array of tables ([[webhooks]]).")
            return None
        entries = [self.entry(index, item) for index, item in enumerate(raw)]
        webhooks = tuple(e for e in entries if e is not None)
        self.unique()
        if ownership is not None:
            for hook in webhooks:
                if not ownership.owns(hook.name, hook.url):
                    self.add(
                        _where(hook.index, hook.name),
                        f"is outside the declared ownership ({ownership.describe()}).",
                    )
        return DesiredState(self.source, webhooks, ownership)

    def ownership(self, raw: Any) -> Ownership | None:
        if raw is None:
            return None
        if not isinstance(raw, dict):
            self.add("ownership", "must be a table.")
            return None
        for key in sorted(set(raw) - _OWNERSHIP_KEYS):
            self.add(f"ownership.{key}", "unknown key (use name_prefix and/or url_prefix).")
        if not set(raw) & _OWNERSHIP_KEYS:
            self.add("ownership", "must declare name_prefix and/or url_prefix.")
            return None
        values = {
            key: self.string(f"ownership.{key}", raw[key], max_len=rules.URL_MAX)
            for key in _OWNERSHIP_KEYS
            if key in raw
        }
        return Ownership(values.get("name_prefix"), values.get("url_prefix"))

    def entry(self, index: int, raw: dict[str, Any]) -> DesiredWebhook | None:
        label = raw.get("name") if isinstance(raw.get("name"), str) else None
        where = _where(index, label)
        before = len(self.errors)
        for key in sorted(set(raw) - _ENTRY_KEYS):
            self.add(f"{where}.{key}", "unknown field.")
        name = self.required(where, raw, "name", self.name)
        url = self.required(where, raw, "url", self.url)
        enabled = raw.get("enabled", True)
        if not isinstance(enabled, bool):
            self.add(f"{where}.enabled", "must be true or false.")
        events = self.events(f"{where}.events", raw.get("events", "all"))
        auth_type = self.auth_type(f"{where}.auth_type", raw.get("auth_type", "none"))
        credentials = self.credentials(where, raw, auth_type)
        pinned = raw.get("id")
        if pinned is not None and (not isinstance(pinned, str) or not pinned.strip()):
            self.add(f"{where}.id", "must be a non-empty string (an existing webhook id).")
        elif pinned is not None:
            rules.check_webhook_id(self, f"{where}.id", pinned)
        identity = {"name": name, "url": url, "id": pinned if isinstance(pinned, str) else None}
        self.identities.append((index, where, identity))
        if len(self.errors) != before or name is None or url is None or auth_type is None:
            return None
        return DesiredWebhook(
            index=index,
            name=name,
            url=url,
            enabled=bool(enabled),
            events=events,
            auth_type=auth_type,
            credentials=credentials,
            id=pinned,
        )

    def required(self, where: str, raw: dict[str, Any], key: str, check: Any) -> str | None:
        if key not in raw:
            self.add(f"{where}.{key}", "is required.")
            return None
        result: str | None = check(f"{where}.{key}", raw[key])
        return result

    def events(self, where: str, raw: Any) -> tuple[str, ...] | None:
        if raw == "all":
            return None
        if not isinstance(raw, list) or not raw:
            self.add(where, 'must be "all" or a non-empty list of event type names.')
            return None
        names: set[str] = set()
        for position, item in enumerate(raw):
            if not isinstance(item, str):
                self.add(f"{where}[{position}]", "must be a string.")
                continue
            try:
                names.add(normalize_event_type(self.interpolate(f"{where}[{position}]", item)))
            except ValueError:
                self.add(f"{where}[{position}]", f"unknown event type {item!r}.")
        return tuple(sorted(names))

    def auth_type(self, where: str, raw: Any) -> AuthType | None:
        value = rules.check_enum(self, where, raw, AuthType, required=True)
        return None if value is None else AuthType(value)

    def credentials(
        self, where: str, raw: dict[str, Any], auth_type: AuthType | None
    ) -> tuple[CredentialValue, ...]:
        if auth_type is None:
            return ()
        needed = CREDENTIAL_FIELDS[auth_type]
        for field in sorted(_ALL_CREDENTIALS - set(needed)):
            if field in raw:
                self.add(f"{where}.{field}", f"is not used with auth_type {auth_type.value!r}.")
        values = []
        for field in needed:
            if field not in raw:
                self.add(f"{where}.{field}", f"is required with auth_type {auth_type.value!r}.")
                continue
            value = self.credential(f"{where}.{field}", field, raw[field])
            if value is not None:
                values.append(value)
        return tuple(values)

    def credential(self, where: str, field: str, raw: Any) -> CredentialValue | None:
        if isinstance(raw, dict):
            if set(raw) != {"env"} or not isinstance(raw["env"], str):
                self.add(where, 'an env reference is written { env = "VARIABLE_NAME" }.')
                return None
            name = raw["env"]
            if not _VAR_NAME.match(name):
                self.add(where, f"{name!r} is not a valid environment variable name.")
                return None
            value = self.env.get(name)
            if value is None or not value.strip():
                self.add(where, f"environment variable {name} is not set (or empty).")
                return None
            checked = rules.check_credential(
                _EnvValue(self, name), field, value, required=True, key=where
            )
            return None if checked is None else CredentialValue(field, name, checked)
        if field in SECRET_FIELDS:
            # Never echo the value: it may be the very secret we refuse.
            self.add(
                where,
                "literal secrets are refused so the file can be committed; "
                'write { env = "VARIABLE_NAME" } and set that variable.',
            )
            return None
        text = self.text(where, raw)
        if text is None:
            return None
        value = rules.check_credential(self, field, text, required=True, key=where)
        return None if value is None else CredentialValue(field, None, value)

    def unique(self) -> None:
        for attribute in ("name", "url", "id"):
            seen: dict[str, int] = {}
            for index, where, identity in self.identities:
                value = identity[attribute]
                if value is None:
                    continue
                if value in seen:
                    self.add(
                        f"{where}.{attribute}",
                        f"duplicates the {attribute} of webhooks[{seen[value]}]; "
                        "each endpoint must appear once.",
                    )
                else:
                    seen[value] = index


class _EnvValue:
    """Reports a rule's problem with an env reference's value as that variable's."""

    def __init__(self, checker: _Checker, name: str) -> None:
        self.checker = checker
        self.name = name

    def add(self, where: str, message: str) -> None:
        self.checker.add(where, f"the value of {self.name} {message}")


def _where(index: int, name: str | None) -> str:
    return f"webhooks[{index}] ({name})" if name else f"webhooks[{index}]"


def _toml_type(value: Any) -> str:
    return {
        bool: "a boolean",
        int: "an integer",
        float: "a float",
        list: "an array",
        dict: "a table",
    }.get(type(value), type(value).__name__)
