"""A minimal Django configuration for the webhook-receiver tests only.

Self-contained on purpose: other test suites may configure Django their own
way, so these tests apply their settings with ``override_settings`` and
only call ``settings.configure`` when nothing else configured Django.
"""
