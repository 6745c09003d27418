"""``@cacheControl`` (Apollo Server's directive): the hints declared where a type or field is,
and the policy they combine into. How a document's policy is worked out from them is
``schema/cache_control.py``; the README's "HTTP caching" table lists every hint."""

from __future__ import annotations

import enum
from dataclasses import dataclass

import strawberry
from strawberry.schema_directive import Location

DEFAULT_MAX_AGE = 0

# How long the public data may be served from a cache, in seconds (the README has the table).
CATALOGUE_MAX_AGE = 60  # products: names, descriptions, prices
STOCK_MAX_AGE = 10  # every order changes it
FEED_MAX_AGE = 30  # published posts and their comments
PROFILE_MAX_AGE = 60  # the public profile of a user
FILE_MAX_AGE = 60  # an avatar or a product image (what it is; its URL below)
# A file's URL expires FILE_URL_TTL_SECONDS (at least 60) after it was made: a cached one
# keeps at least half a minute of validity.
FILE_URL_MAX_AGE = 30


@strawberry.enum(description="Who may keep a cached response (`@cacheControl`).")
class CacheControlScope(enum.Enum):
    PUBLIC = "PUBLIC"
    PRIVATE = "PRIVATE"


@strawberry.schema_directive(
    locations=[Location.FIELD_DEFINITION, Location.OBJECT, Location.INTERFACE, Location.UNION],
    description=(
        "How long (seconds) and by whom a GET response selecting this may be cached; the "
        "response gets the most restrictive hint of what it selects (Apollo's semantics)."
    ),
)
class CacheControl:
    max_age: int | None = strawberry.UNSET
    scope: CacheControlScope | None = strawberry.UNSET
    inherit_max_age: bool | None = strawberry.UNSET


def cache_control(
    *,
    max_age: int | None = None,
    scope: CacheControlScope | None = None,
    inherit_max_age: bool = False,
) -> CacheControl:
    """A hint, declared where the type or field is: ``strawberry.field(directives=[…])``."""
    hint = CacheControl()
    if max_age is not None:
        hint.max_age = max_age
    if scope is not None:
        hint.scope = scope
    if inherit_max_age:
        hint.inherit_max_age = True
    return hint


# What depends on who asks (the viewer's own data): never in a shared cache, even when it
# answers null to an anonymous caller; its maxAge comes from its type or parent.
VIEWER_ONLY = cache_control(scope=CacheControlScope.PRIVATE)
# The viewer's money, orders and notifications change with every action: no cache keeps them.
NEVER_CACHED = cache_control(max_age=0, scope=CacheControlScope.PRIVATE)
# Wrappers (connections, edges, page info) have the policy of the field that returns them.
INHERIT_MAX_AGE = cache_control(inherit_max_age=True)


@dataclass(frozen=True, slots=True)
class CachePolicy:
    """A maxAge (None: not restricted yet) and a scope (None counts as PUBLIC)."""

    max_age: int | None = None
    scope: CacheControlScope | None = None

    @property
    def cacheable(self) -> bool:
        return self.max_age is not None and self.max_age > 0

    @property
    def private(self) -> bool:
        return self.scope is CacheControlScope.PRIVATE

    def restrict(self, other: CachePolicy) -> CachePolicy:
        """The more restrictive of the two: the lower maxAge, PRIVATE over PUBLIC."""
        max_age = self.max_age
        if other.max_age is not None and (max_age is None or other.max_age < max_age):
            max_age = other.max_age
        scope = self.scope
        if other.scope is not None and scope is not CacheControlScope.PRIVATE:
            scope = other.scope
        if max_age == self.max_age and scope is self.scope:
            return self
        return CachePolicy(max_age, scope)


NOT_CACHEABLE = CachePolicy(max_age=0)
