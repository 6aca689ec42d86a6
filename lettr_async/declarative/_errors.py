"""The exceptions of webhooks-as-code: a bad config file, a plan that cannot be made or applied.

All of them are ``LettrError`` subclasses, so callers that already catch the
SDK's errors catch these too; none of their messages ever holds a credential.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ..errors import LettrError, ValidationError

__all__ = ["ConfigError", "PlanError", "StalePlanError"]


class ConfigError(ValidationError):
    """The config file (or a saved plan) is invalid; nothing was sent.

    ``errors`` maps ``"<file>: webhooks[<i>] (<name>).<field>"`` to messages,
    so every problem of the whole file is reported at once, naming the file,
    the entry and the field.
    """

    def __init__(self, message: str, errors: Mapping[str, list[str]]) -> None:
        """Keep every error of the file; ``status_code`` stays None (local check)."""
        super().__init__(message, errors=errors)


class PlanError(ValidationError):
    """The desired state cannot be reached from the live state (nothing was sent).

    Raised while building a plan, e.g. an entry pins an ``id`` that does not
    exist, or two endpoints would end up with the same URL.
    """

    def __init__(self, message: str, errors: Mapping[str, list[str]]) -> None:
        """Keep every problem found, keyed by the entry's address."""
        super().__init__(message, errors=errors)


class StalePlanError(LettrError):
    """The live endpoints changed since the plan was made; apply sent nothing.

    ``differences`` lists what changed (one line per endpoint), so the user
    can decide whether to plan again.
    """

    differences: list[str]

    def __init__(self, differences: Sequence[str]) -> None:
        """Say what changed since the plan was made."""
        self.differences = list(differences)
        shown = "; ".join(self.differences[:10])
        more = len(self.differences) - 10
        if more > 0:
            shown += f"; and {more} more"
        super().__init__(
            "the plan is stale: the live webhooks changed since it was made "
            f"({shown}); nothing was sent, make a new plan"
        )
