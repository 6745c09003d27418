"""The root types, merged from one class per domain (each domain module adds its own)."""

from __future__ import annotations

from schema.files import FileMutation, FileQuery
from schema.mutation import Mutation as CoreMutation
from schema.notifications import NotificationMutation, NotificationQuery
from schema.query import Query as CoreQuery
from schema.subscription import Subscription

QUERY_TYPES: list[type] = [CoreQuery]
MUTATION_TYPES: list[type] = [CoreMutation]

QUERY_TYPES.append(NotificationQuery)
MUTATION_TYPES.append(NotificationMutation)
QUERY_TYPES.append(FileQuery)
MUTATION_TYPES.append(FileMutation)

SUBSCRIPTION_TYPES: list[type] = [Subscription]
