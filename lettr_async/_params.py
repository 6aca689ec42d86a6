"""Compatibility alias: the validation rules moved to ``lettr_async._validation``."""

from ._validation import build_create_params, build_update_params, webhook_path

__all__ = ["build_create_params", "build_update_params", "webhook_path"]
