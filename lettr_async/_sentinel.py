"""``NOT_GIVEN``: the default of per-call and ``with_options`` settings.

``None`` already means something for ``timeout`` (no timeout, everywhere),
so "keep the client's setting" needs its own value, typed so mypy accepts
``timeout: float | None | NotGiven = NOT_GIVEN`` (openai-python's pattern).
"""

from __future__ import annotations

from typing import Final, Literal

__all__ = ["NOT_GIVEN", "NotGiven"]


class NotGiven:
    """The type of ``NOT_GIVEN``: "use the client's default" for an option."""

    _instance: NotGiven | None = None

    def __new__(cls) -> NotGiven:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __bool__(self) -> Literal[False]:
        return False

    def __repr__(self) -> str:
        return "NOT_GIVEN"

    def __reduce__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN: Final = NotGiven()
"""Leave this option at the client's (or view's) default."""
