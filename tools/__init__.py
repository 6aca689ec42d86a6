"""Development tools that are not shipped: the sync-code generator."""
