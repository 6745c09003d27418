"""Resolvers, one module per domain: thin, they parse arguments and call loaders/services."""
