// What a browser on an allowed origin does before Apollo Client's request: the CORS preflight
// asking for the Apollo client-awareness and W3C trace-context headers, then the request itself.
// And the CSRF guard accepting Apollo's headers on a multipart POST. Node's fetch does not run
// CORS itself, so the preflight is sent here as a browser would send it.
// Usage: node preflight.mjs <api url> <allowed origin>
import { API_URL, fail, report } from "./lib.mjs";

const ORIGIN = process.argv[3];
// As Chromium lists them: lower-case, sorted, comma-separated.
const REQUESTED = [
  "apollographql-client-name",
  "apollographql-client-version",
  "authorization",
  "baggage",
  "content-type",
  "traceparent",
  "tracestate",
];

const allowHeaders = (response) =>
  Object.fromEntries(
    [...response.headers].filter(([name]) => name.startsWith("access-control-") || name === "vary"),
  );

try {
  const preflight = await fetch(API_URL, {
    method: "OPTIONS",
    headers: {
      Origin: ORIGIN,
      "Access-Control-Request-Method": "POST",
      "Access-Control-Request-Headers": REQUESTED.join(","),
    },
  });
  const actual = await fetch(API_URL, {
    method: "POST",
    headers: {
      Origin: ORIGIN,
      "Content-Type": "application/json",
      "apollographql-client-name": "agora-web",
      "apollographql-client-version": "1.4.2",
      traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      tracestate: "agora=00f067aa0ba902b7",
      baggage: "userId=alice",
    },
    body: JSON.stringify({ query: "{ products(first: 1) { nodes { id } } }" }),
  });
  // A multipart POST (what an upload sends) with each of Apollo's CSRF-safe headers, and none.
  const multipart = async (headers) => {
    const body = new FormData();
    body.append("operations", JSON.stringify({ query: "query Me { me { id } }" }));
    body.append("map", "{}");
    const response = await fetch(API_URL, { method: "POST", headers: { Origin: ORIGIN, ...headers }, body });
    return { status: response.status, body: await response.json() };
  };
  report({
    preflight: { status: preflight.status, headers: allowHeaders(preflight), requested: REQUESTED },
    actual: { status: actual.status, headers: allowHeaders(actual), body: await actual.json() },
    csrf: {
      "x-apollo-operation-name": await multipart({ "x-apollo-operation-name": "Me" }),
      "apollo-require-preflight": await multipart({ "apollo-require-preflight": "true" }),
      none: await multipart({}),
    },
  });
} catch (error) {
  fail(error);
}
