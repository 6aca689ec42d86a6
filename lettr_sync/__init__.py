"""Synchronous facade over lettr_async."""
