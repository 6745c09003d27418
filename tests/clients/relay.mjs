// Relay's network layer (relay-runtime): the fetch function a Relay Environment uses. The
// compiler's artifacts carry `params.text` (or `params.id` with persisted queries); this runs
// the network layer directly with such parameters.
import { API_URL, fail, login, report } from "./lib.mjs";

const accessToken = await login("uma@agora.test");
const getAccessToken = () => accessToken;

// README:start relay
import { Environment, Network, RecordSource, Store } from "relay-runtime";

async function fetchGraphQL(params, variables) {
  const response = await fetch(API_URL, {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      Accept: "application/graphql-response+json",
      Authorization: `Bearer ${getAccessToken()}`,
    },
    body: JSON.stringify({ query: params.text, operationName: params.name, variables }),
  });
  return response.json(); // GraphQL errors stay in the payload: Relay reports them per field
}

const network = Network.create(fetchGraphQL);
const environment = new Environment({ network, store: new Store(new RecordSource()) });
// README:end

try {
  const params = {
    id: null,
    cacheID: "relay-test-viewer",
    name: "ViewerQuery",
    operationKind: "query",
    text: "query ViewerQuery { me { id name } posts(first: 2) { edges { cursor node { id title } } pageInfo { hasNextPage endCursor } } }",
    metadata: {},
  };
  const payload = await network.execute(params, {}, {}).toPromise();
  report({ payload, store: environment.getStore() instanceof Store });
} catch (error) {
  fail(error);
}
