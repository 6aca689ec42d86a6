"""Webhooks as code: keep desired endpoints in a TOML file and make Lettr match it.

``load_config`` validates the file (secrets only as env references),
``plan(client, desired)`` diffs it against the live list into a typed,
JSON-serialisable ``Plan``, and ``apply(client, plan)`` applies a plan
through the bulk engine, refusing a stale one, a saved one that is not what
its file plans now, and any that breaks the rules (deletes only with prune
inside the ownership, updates only to matched endpoints). ``export_toml`` writes the
file for the endpoints that exist today. ``lettr_sync.declarative`` has the same
``plan``/``apply`` for the sync client. See ``docs/webhooks-as-code.md``.
"""

from ._apply import ApplyResult, ChangeOutcome
from ._config import (
    CredentialValue,
    DesiredState,
    DesiredWebhook,
    Ownership,
    default_lock_path,
    load_config,
    parse_config,
)
from ._diff import build_plan
from ._entry import apply, plan
from ._errors import ConfigError, PlanError, StalePlanError
from ._export import env_name_for, export_toml
from ._lock import LockEntry, LockFile
from ._plan import (
    PLAN_FORMAT_VERSION,
    WRITE_ONLY_SENT,
    WRITE_ONLY_UNCHANGED,
    Action,
    Change,
    FieldChange,
    LiveWebhook,
    Plan,
)

__all__ = [
    "PLAN_FORMAT_VERSION",
    "WRITE_ONLY_SENT",
    "WRITE_ONLY_UNCHANGED",
    "Action",
    "ApplyResult",
    "Change",
    "ChangeOutcome",
    "ConfigError",
    "CredentialValue",
    "DesiredState",
    "DesiredWebhook",
    "FieldChange",
    "LiveWebhook",
    "LockEntry",
    "LockFile",
    "Ownership",
    "Plan",
    "PlanError",
    "StalePlanError",
    "apply",
    "build_plan",
    "default_lock_path",
    "env_name_for",
    "export_toml",
    "load_config",
    "parse_config",
    "plan",
]
