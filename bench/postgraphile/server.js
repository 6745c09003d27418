// PostGraphile 4.14.1, the Node reference of `make bench`: one process, the library API,
// production-ish options (no watch, no GraphiQL, no query log), schema inferred from `public`.
// Usage: node server.js PORT; environment: BENCH_DATABASE_URL, POOL_MAX (bench/run.py sets
// them; POOL_MAX is the pool size every implementation of the benchmark gets).
// GET /health answers 200 once the GraphQL schema is built, so the first timed request
// does not pay for introspecting the database.
"use strict";

const http = require("http");
const { postgraphile } = require("postgraphile");

const host = "127.0.0.1";
const port = Number(process.argv[2] || 5000);
const handler = postgraphile(
  {
    connectionString:
      process.env.BENCH_DATABASE_URL || "postgres://postgres@127.0.0.1:5432/agora_bench",
    max: Number(process.env.POOL_MAX || 10),
  },
  "public",
  {
    watchPg: false,
    graphiql: false,
    enableQueryBatching: false,
    disableQueryLog: true,
    dynamicJson: false,
    setofFunctionsContainNulls: false,
    ignoreRBAC: false,
    showErrorStack: false,
    extendedErrors: [],
    retryOnInitFail: false,
  },
);

const server = http.createServer((request, response) => {
  if (request.url === "/health") {
    handler.getGraphQLSchema().then(
      () => {
        response.writeHead(200, { "Content-Type": "application/json" });
        response.end('{"status":"ok"}');
      },
      (error) => {
        response.writeHead(503, { "Content-Type": "application/json" });
        response.end(JSON.stringify({ status: "error", message: String(error) }));
      },
    );
    return;
  }
  handler(request, response);
});

server.keepAliveTimeout = 65_000;
server.listen(port, host);

function stop() {
  server.close(() => handler.release().finally(() => process.exit(0)));
  setTimeout(() => process.exit(0), 5_000).unref();
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
