"""Strawberry object types; each resolves from a Tortoise model given as its root."""
