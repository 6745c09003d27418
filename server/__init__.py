"""The HTTP server: app factory, settings, middleware, routes and the CLI."""
