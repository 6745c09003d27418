"""Cache hints: ``@cacheControl`` declared on types and fields (Apollo Server's directive, with
its semantics), and the cache policy of an operation, worked out once per document.

A field's policy (Apollo's cacheControl plugin, applied to the document instead of at run time):
- it starts from its return type's hint when that type is an object, interface or union;
  the field's own hint then overrides what it sets. ``inheritMaxAge: true`` (on the type, or on
  the field when the type sets no maxAge) keeps the parent's maxAge: only its scope applies;
- a root field, or a field returning an object, interface or union, that ends up without a
  maxAge gets ``DEFAULT_MAX_AGE`` (0: not cacheable);
- a scalar or enum field without a hint adds nothing: it has its parent's policy.
The operation's policy is the most restrictive of its fields' (the lowest maxAge; PRIVATE when
any field is PRIVATE); no maxAge, or 0, is not cacheable. Mutations and subscriptions are never
cacheable; introspection (``__schema``, ``__type``) is not either.

Read from the document, the policy covers every field the operation could resolve, so it is
at least as restrictive as Apollo's run-time one: fields under ``@skip``/``@include`` count
whatever the condition, and a fragment whose type condition narrows its parent (``... on Order``
under ``node``) also applies that type's hint, as if the field returned it. A field of an
interface counts the hints of that field on every type implementing it.

``response_policy`` then applies what depends on the request and its result: a result with
errors is not cacheable, an authenticated one is at most PRIVATE, and every maxAge is capped.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import strawberry
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    get_named_type,
    get_operation_ast,
    is_composite_type,
)

from schema.node_memo import NodeMemo
from vocabulary.cache_hints import (
    DEFAULT_MAX_AGE,
    NOT_CACHEABLE,
    CacheControl,
    CacheControlScope,
    CachePolicy,
)

_UNRESTRICTED = CachePolicy()


def _given(value: object) -> bool:
    return value is not None and value is not strawberry.UNSET


@dataclass(frozen=True, slots=True)
class Hint:
    """A declared ``@cacheControl``, its unset arguments as None."""

    max_age: int | None
    scope: CacheControlScope | None
    inherit_max_age: bool

    @classmethod
    def of(cls, directive: CacheControl) -> Hint:
        inherit = directive.inherit_max_age is True
        return cls(
            # As Apollo: with inheritMaxAge, a maxAge is ignored.
            directive.max_age if _given(directive.max_age) and not inherit else None,
            directive.scope if _given(directive.scope) else None,
            inherit,
        )


_DECLARED = "agora-declared-cache-hint"


def declared_hint(target: GraphQLField | GraphQLNamedType) -> Hint | None:
    """The ``@cacheControl`` of a field or type, looked up once and kept in its extensions."""
    extensions = target.extensions
    if _DECLARED not in extensions:
        definition = extensions.get("strawberry-definition")
        extensions[_DECLARED] = next(
            (
                Hint.of(directive)
                for directive in getattr(definition, "directives", None) or ()
                if isinstance(directive, CacheControl)
            ),
            None,
        )
    hint: Hint | None = extensions[_DECLARED]
    return hint


def field_policy(field: GraphQLField, *, is_root: bool) -> CachePolicy:
    """One field's policy, before it is combined with the others (Apollo's rules)."""
    max_age: int | None = None
    scope: CacheControlScope | None = None
    inherit = False
    target = get_named_type(field.type)
    composite = is_composite_type(target)
    if composite:
        type_hint = declared_hint(target)
        if type_hint is not None:
            max_age, scope, inherit = type_hint.max_age, type_hint.scope, type_hint.inherit_max_age
    hint = declared_hint(field)
    if hint is not None:
        if hint.inherit_max_age and max_age is None:
            inherit = True
            scope = hint.scope or scope
        else:
            max_age = hint.max_age if hint.max_age is not None else max_age
            scope = hint.scope or scope
    if max_age is None and ((composite and not inherit) or is_root):
        max_age = DEFAULT_MAX_AGE
    return CachePolicy(max_age, scope)


def _type_policy(type_: GraphQLNamedType) -> CachePolicy:
    """What a type's own hint sets (for a fragment narrowing its parent to that type)."""
    hint = declared_hint(type_)
    if hint is None:
        return _UNRESTRICTED
    return CachePolicy(hint.max_age, hint.scope)


class _Walk:
    """Folds the policies of every field of one operation. Combining policies is idempotent,
    so a fragment is walked once however often it is spread."""

    def __init__(
        self, schema: GraphQLSchema, fragments: Mapping[str, FragmentDefinitionNode]
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.policy = _UNRESTRICTED
        self.walked: set[tuple[str, bool]] = set()

    def selection_set(
        self, selection_set: SelectionSetNode | None, parent: GraphQLNamedType, is_root: bool
    ) -> None:
        if selection_set is None:
            return
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                self.field(selection, parent, is_root)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                type_ = self.narrowed(parent, condition.name.value if condition else None)
                self.selection_set(selection.selection_set, type_, is_root)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is None:
                    continue
                type_ = self.narrowed(parent, fragment.type_condition.name.value)
                if (name, is_root) not in self.walked:
                    self.walked.add((name, is_root))
                    self.selection_set(fragment.selection_set, type_, is_root)

    def narrowed(self, parent: GraphQLNamedType, condition: str | None) -> GraphQLNamedType:
        type_ = self.schema.get_type(condition) if condition else None
        if type_ is None or type_ is parent:
            return parent
        self.policy = self.policy.restrict(_type_policy(type_))
        return type_

    def field(self, node: FieldNode, parent: GraphQLNamedType, is_root: bool) -> None:
        name = node.name.value
        if name == "__typename":
            return
        if name in ("__schema", "__type"):
            self.policy = self.policy.restrict(NOT_CACHEABLE)
            return
        definitions = list(self.definitions(parent, name))
        if not definitions:
            return
        for definition in definitions:
            self.policy = self.policy.restrict(field_policy(definition, is_root=is_root))
        self.selection_set(node.selection_set, get_named_type(definitions[0].type), False)

    def definitions(self, parent: GraphQLNamedType, name: str) -> Iterable[GraphQLField]:
        """The field's definition on ``parent``; on an interface, also on each implementation
        (whose hints apply to the objects that answer at run time)."""
        if not isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            return
        field = parent.fields.get(name)
        if field is None:
            return
        yield field
        if isinstance(parent, GraphQLInterfaceType):
            for implementation in self.schema.get_possible_types(parent):
                implemented = implementation.fields.get(name)
                if implemented is not None:
                    yield implemented


def operation_policy(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: Mapping[str, FragmentDefinitionNode],
) -> CachePolicy:
    """The policy of one operation of a validated document."""
    if operation.operation is not OperationType.QUERY:
        return NOT_CACHEABLE
    root = schema.get_root_type(operation.operation)
    if root is None:
        return NOT_CACHEABLE
    walk = _Walk(schema, fragments)
    walk.selection_set(operation.selection_set, root, True)
    return walk.policy


# Policies keep no document nodes, so evicted documents are not retained.
_policies: NodeMemo[DocumentNode, CachePolicy] = NodeMemo(512)


def document_policy(
    schema: GraphQLSchema, document: DocumentNode, operation_name: str | None
) -> CachePolicy:
    """The policy of the operation ``operation_name`` names in a validated document, worked out
    once per document (documents come from the parse cache)."""

    def compute() -> CachePolicy:
        operation = get_operation_ast(document, operation_name)
        if operation is None:
            return NOT_CACHEABLE
        fragments = {
            definition.name.value: definition
            for definition in document.definitions
            if isinstance(definition, FragmentDefinitionNode)
        }
        return operation_policy(schema, operation, fragments)

    return _policies.get(document, compute, scope=(id(schema), operation_name))


def response_policy(
    operation: CachePolicy, *, has_errors: bool, authenticated: bool, max_age_limit: int
) -> CachePolicy:
    """The policy of an executed operation's response: none for a result with errors, at most
    PRIVATE for an authenticated caller, no maxAge above ``max_age_limit`` (0: never cached)."""
    if has_errors or not operation.cacheable:
        return NOT_CACHEABLE
    policy = operation
    if authenticated:
        policy = policy.restrict(CachePolicy(scope=CacheControlScope.PRIVATE))
    return policy.restrict(CachePolicy(max_age=max_age_limit))
