"""The HTTP server: app factory, middleware, routes, websockets, the container and the CLI."""
