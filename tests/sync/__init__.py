"""Tests of the generated synchronous facade, ``lettr_sync``."""
