"""The root types, merged from one class per domain (each domain module adds its own)."""

from __future__ import annotations

from schema.mutation import Mutation as CoreMutation
from schema.query import Query as CoreQuery

QUERY_TYPES: list[type] = [CoreQuery]
MUTATION_TYPES: list[type] = [CoreMutation]
SUBSCRIPTION_TYPES: list[type] = []
