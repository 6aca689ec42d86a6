"""The public API: what ``lettr_async`` exports, and that users can name every type they pass.

A constructor parameter typed with a class users cannot import from the
package (say ``Hooks`` only from ``lettr_async.hooks``) forces them into
submodules; an internal exported by accident becomes a promise.
"""

from __future__ import annotations

import ast
import builtins
import importlib.util
import inspect
import sys
from types import ModuleType

import pytest

import lettr_async
import lettr_async.ratelimit
import lettr_sync

PUBLIC_API = [
    "API_KEY_ENV",
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncLettr",
    "AsyncWebhooks",
    "AuthType",
    "AuthenticationError",
    "BadRequestError",
    "BulkError",
    "BulkLedger",
    "BulkOutcome",
    "BulkResult",
    "CLIENT_RATE_LIMITED",
    "ConflictError",
    "DEFAULT_BASE_URL",
    "EVENT_TYPES",
    "EventType",
    "EventsMode",
    "ForbiddenError",
    "Hooks",
    "InsecureBaseURLWarning",
    "LastStatus",
    "LettrError",
    "NOT_GIVEN",
    "NotAttemptedError",
    "NotFoundError",
    "NotGiven",
    "OutcomeUnknownError",
    "ProgressCallback",
    "RateLimitError",
    "RateLimitInfo",
    "RateStore",
    "RetryPolicy",
    "ServerError",
    "TLSCertificateError",
    "UnexpectedResponseError",
    "UnprocessableEntityError",
    "ValidationError",
    "Webhook",
    "WebhookCreateFields",
    "WebhookUpdateFields",
    "__version__",
    "normalize_event_type",
    "validate_update_fields",
]


def test_the_public_api_is_exactly_this_list() -> None:
    assert sorted(lettr_async.__all__) == sorted(PUBLIC_API)
    assert len(set(lettr_async.__all__)) == len(lettr_async.__all__)
    for name in lettr_async.__all__:
        assert hasattr(lettr_async, name), name


def test_the_ratelimit_package_exports_no_internals() -> None:
    for name in ("Lane", "RateLimiter", "current_lane"):
        assert name not in lettr_async.ratelimit.__all__
        assert not hasattr(lettr_async.ratelimit, name)


def test_the_hooks_module_exports_what_users_register_and_receive() -> None:
    """Records, ``Hooks`` and ``capture_response``: not the pipeline's ``CallTracker``."""
    import lettr_async.hooks

    assert "CallTracker" not in lettr_async.hooks.__all__
    assert {"Hooks", "CallEnd", "Response", "capture_response"} <= set(lettr_async.hooks.__all__)


def _annotation_names(annotation: str) -> set[str]:
    """The root names an annotation string uses (``os.PathLike[str]`` -> ``os``, ``str``)."""
    tree = ast.parse(annotation, mode="eval")
    return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}


def _annotations(client: type) -> list[tuple[str, str, ModuleType]]:
    """``(where, annotation, defining module)`` of the constructor's parameters and of the
    return of every public method and property, through the class's bases."""
    found: list[tuple[str, str, ModuleType]] = []
    seen: set[str] = set()
    for cls in client.__mro__[:-1]:  # object aside
        module = sys.modules[cls.__module__]
        for attribute, member in vars(cls).items():
            if attribute in seen:
                continue
            seen.add(attribute)
            function = member.fget if isinstance(member, property) else member
            if not inspect.isfunction(function):
                continue
            signature = inspect.signature(function)
            if attribute == "__init__":
                parameters = list(signature.parameters.values())[1:]
                found += [(p.name, p.annotation, module) for p in parameters]
            elif not attribute.startswith("_"):
                found.append((f"{attribute}()", signature.return_annotation, module))
    return found


@pytest.mark.parametrize(
    ("client", "package"),
    [(lettr_async.AsyncLettr, lettr_async), (lettr_sync.Lettr, lettr_sync)],
    ids=["AsyncLettr", "Lettr"],
)
def test_every_type_users_pass_or_receive_is_importable_from_the_package(
    client: type, package: ModuleType
) -> None:
    """Names in the constructor's annotations, and in the return annotations of the
    client's public methods and properties, are builtins, the standard library's, or exported.

    A name the defining module binds at runtime to something outside the SDK
    (``os``, ``ssl``, ``Mapping``) is the standard library's; anything else
    (an SDK class, or a name imported only for type checking) must be in the
    package's ``__all__``, as the very same object.
    """
    annotations = _annotations(client)
    wheres = {where for where, _, _ in annotations}
    assert {"api_key", "hooks", "rate_limit_store", "with_options()"} <= wheres
    missing: dict[str, str] = {}
    for where, annotation, module in annotations:
        assert isinstance(annotation, str), f"{where}: annotations are strings (PEP 563)"
        for name in _annotation_names(annotation):
            if hasattr(builtins, name) or name == "Self":  # Self: the client class itself
                continue
            bound = getattr(module, name, None)
            if bound is not None and not getattr(bound, "__module__", "").startswith("lettr_"):
                continue  # os, ssl, collections.abc.Mapping...
            if bound is None and importlib.util.find_spec(name) is not None:
                continue  # a library's module named for type checking only (aiohttp)
            if name not in package.__all__ or (
                bound is not None and getattr(package, name) is not bound
            ):
                missing[where] = name
    assert missing == {}, f"not importable from {package.__name__}: {missing}"


def test_the_exported_types_are_the_constructor_s_own() -> None:
    from lettr_async.hooks import Hooks
    from lettr_async.ratelimit import RateStore

    assert lettr_async.Hooks is Hooks
    assert lettr_async.RateStore is RateStore
    assert lettr_sync.Hooks is Hooks
    assert lettr_sync.RateStore is RateStore


def test_the_webhook_field_types_live_in_a_public_module() -> None:
    """``help()`` and error messages name where a type lives: ``lettr_async.types``."""
    assert lettr_async.WebhookCreateFields.__module__ == "lettr_async.types"
    assert lettr_async.WebhookUpdateFields.__module__ == "lettr_async.types"
