"""A small but real Django project using the Lettr SDK, for the sync-facade tests.

``views.py`` shows the two recommended patterns: a sync view sharing one
module-level ``lettr_sync.Lettr`` (thread-safe, fork-safe, pooled), and an
async view using ``lettr_async.AsyncLettr`` with one client per event loop.
The settings are plain Django settings; tests apply them with
``override_settings`` so other suites configuring Django can coexist.
"""
