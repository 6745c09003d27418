// graphql-sse in its default "distinct connections" mode: each subscription is its own POST
// answered with text/event-stream; the Authorization header authenticates it.
import { API_URL, fail, login, publishUntil, report, wire } from "./lib.mjs";

const accessToken = await login("moderator@agora.test");
const getAccessToken = () => accessToken;

// README:start graphql-sse
import { createClient } from "graphql-sse";

const sse = createClient({
  url: API_URL, // the same /graphql: POST with Accept: text/event-stream
  headers: () => ({ Authorization: `Bearer ${getAccessToken()}` }), // read per connection
});

async function* postsAsPublished() {
  for await (const { data, errors } of sse.iterate({
    query: "subscription { postPublished { id title author { name } } }",
  })) {
    if (errors) throw new Error(errors[0].extensions?.code ?? errors[0].message);
    yield data.postPublished;
  }
}
// README:end

try {
  const received = [];
  const reading = (async () => {
    for await (const post of postsAsPublished()) {
      received.push(post);
      break; // ends the subscription: the stream is closed
    }
  })();
  let readingError = null;
  reading.catch((error) => { readingError = error; });
  const published = await publishUntil(() => received.length > 0 || readingError !== null, accessToken);
  if (readingError) throw readingError;
  await reading;
  sse.dispose();
  report({
    received,
    published,
    requests: wire.map((request) => ({ method: request.method, status: request.status, contentType: request.contentType, accept: request.headers.accept })),
  });
} catch (error) {
  fail(error);
}
