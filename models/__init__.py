"""Tortoise models, one module per domain."""
