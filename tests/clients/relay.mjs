// Relay's network layer (relay-runtime): the fetch function of a Relay Environment. The
// compiler's artifacts carry the operation's `text`, or with persisted queries
// (`persistConfig` in relay.config.json) only its `id`, the key of the manifest it writes:
// persisted_queries.json here, which the server under test trusts. This runs the network layer
// with both kinds of parameters.
import { readFileSync } from "node:fs";
import { API_URL, fail, login, publishUntil, report, wire } from "./lib.mjs";

const accessToken = await login("uma@agora.test");
const getAccessToken = () => accessToken;

// README:start relay
import { createClient } from "graphql-sse";
import { Environment, Network, Observable, RecordSource, Store } from "relay-runtime";

async function fetchGraphQL(params, variables) {
  const response = await fetch(API_URL, {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      Accept: "application/graphql-response+json",
      Authorization: `Bearer ${getAccessToken()}`,
    },
    // A persisted operation travels as its id (doc_id), anything else as its text.
    body: JSON.stringify(
      params.id ? { doc_id: params.id, variables } : { query: params.text, variables },
    ),
  });
  return response.json(); // GraphQL errors stay in the payload: Relay reports them per field
}

// Subscriptions over HTTP with graphql-sse (or a graphql-ws client the same way).
const sse = createClient({
  url: API_URL,
  headers: () => ({ Authorization: `Bearer ${getAccessToken()}` }),
});

function subscribe(params, variables) {
  return Observable.create((sink) =>
    sse.subscribe({ operationName: params.name, query: params.text, variables }, sink),
  );
}

const environment = new Environment({
  network: Network.create(fetchGraphQL, subscribe),
  store: new Store(new RecordSource()),
});
// README:end

try {
  const [[id, text]] = Object.entries(JSON.parse(readFileSync("persisted_queries.json", "utf8")));
  const operation = (params) => ({ cacheID: "ViewerQuery", name: "ViewerQuery", operationKind: "query", metadata: {}, ...params });
  const network = environment.getNetwork();
  const byText = await network.execute(operation({ id: null, text }), {}, {}).toPromise();
  const byId = await network.execute(operation({ id, text: null }), {}, {}).toPromise();
  const bodies = wire.map((request) => Object.keys(JSON.parse(request.body)).sort());

  const received = [];
  const subscription = network
    .execute(
      operation({
        id: null,
        name: "PostPublishedSubscription",
        operationKind: "subscription",
        text: "subscription PostPublishedSubscription { postPublished { id title } }",
      }),
      {},
      {},
    )
    .subscribe({ next: (payload) => received.push(payload), error: (error) => received.push({ error: String(error) }) });
  const published = await publishUntil(() => received.length > 0, accessToken);
  subscription.unsubscribe();
  sse.dispose();
  report({ byText, byId, bodies, received, published });
} catch (error) {
  fail(error);
}
