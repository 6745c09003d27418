"""The words the schema and the resolvers share: the request context (``Context``, ``Info``),
enums, inputs, scalars, global IDs and the ``Node`` interface, connections, the helpers for
optional arguments, and the ``@cost`` / ``@maxLength`` directives. Below both (see
docs/ARCHITECTURE.md, "Layers"): it imports neither."""
