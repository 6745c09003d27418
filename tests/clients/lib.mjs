// What every scenario shares: the server's address from the command line, a demo login, a
// record of every HTTP request the client libraries make (globalThis.fetch wrapped, so the
// README snippets run unchanged), and one JSON report on stdout for the Python test to read.

export const API_URL = process.argv[2];
if (!API_URL) {
  console.error("usage: node <scenario>.mjs http://127.0.0.1:<port>/graphql");
  process.exit(2);
}
export const WS_URL = API_URL.replace(/^http/, "ws");

export const DEMO_PASSWORD = "Agora-demo-1";

/** Every request made through fetch: method, url, headers (lower-case names), body text. */
export const wire = [];

const realFetch = globalThis.fetch;

globalThis.fetch = async (input, init = {}) => {
  const request = new Request(input, init);
  const body = request.body && !(init.body instanceof FormData) ? await request.clone().text() : null;
  const entry = {
    method: request.method,
    url: request.url,
    headers: Object.fromEntries(request.headers),
    body,
    form: init.body instanceof FormData ? [...init.body.keys()] : null,
  };
  wire.push(entry);
  const response = await realFetch(input, init);
  entry.status = response.status;
  entry.contentType = response.headers.get("content-type");
  entry.cacheControl = response.headers.get("cache-control");
  entry.etag = response.headers.get("etag");
  // A JSON answer is read whole from a copy (a stream, SSE or multipart, is left alone).
  if (entry.contentType?.includes("json")) entry.response = await response.clone().json();
  return response;
};

/** Log in a demo account with plain fetch (not recorded): its access token. */
export async function login(email) {
  const response = await realFetch(API_URL, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      query: "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }",
      variables: { e: email, p: DEMO_PASSWORD },
    }),
  });
  const { data, errors } = await response.json();
  if (errors) throw new Error(`login ${email}: ${JSON.stringify(errors)}`);
  return data.login.accessToken;
}

/** Run a GraphQL operation with plain fetch (not recorded); its data, or throw. */
export async function graphql(query, variables = {}, token = "") {
  const headers = { "content-type": "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await realFetch(API_URL, {
    method: "POST",
    headers,
    body: JSON.stringify({ query, variables }),
  });
  const { data, errors } = await response.json();
  if (errors) throw new Error(JSON.stringify(errors));
  return data;
}

/** Create and publish posts as `token`, one every `intervalMs`, until `done()` is true (the
 * subscriber may start listening some time after its request left); the ids published. */
export async function publishUntil(done, token, { intervalMs = 250, timeoutMs = 15000 } = {}) {
  const published = [];
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`no event after publishing ${published.length} posts`);
    const { createPost } = await graphql(
      "mutation($t: String!) { createPost(input: {title: $t, body: \"From a client test\", tags: [\"clients\"]}) { id } }",
      { t: `Client test ${published.length + 1}` },
      token,
    );
    await graphql("mutation($id: ID!) { publishPost(id: $id) { id } }", { id: createPost.id }, token);
    published.push(createPost.id);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  return published;
}

/** The report: one JSON object on stdout, then exit (open sockets would keep Node alive). */
export function report(result) {
  process.stdout.write(`${JSON.stringify({ ...result, wire })}\n`);
  process.exit(0);
}

/** Fail with the error and what went over the wire so far. */
export function fail(error) {
  console.error(error?.stack ?? error);
  process.stdout.write(`${JSON.stringify({ error: String(error?.stack ?? error), wire })}\n`);
  process.exit(1);
}
process.on("unhandledRejection", fail);
process.on("uncaughtException", fail);
