// urql (@urql/core) with graphql-ws: queries over HTTP, subscriptions over the websocket
// (graphql-transport-ws), both with the access token.
import { API_URL, WS_URL, fail, login, publishUntil, report } from "./lib.mjs";

const accessToken = await login("cy@agora.test");
const getAccessToken = () => accessToken;

// README:start urql-websocket
import { Client, cacheExchange, fetchExchange, gql, subscriptionExchange } from "@urql/core";
import { createClient as createWSClient } from "graphql-ws";
import WebSocket from "ws"; // Node only; browsers have their own WebSocket

const wsClient = createWSClient({
  url: WS_URL, // the same path: ws(s)://…/graphql
  webSocketImpl: WebSocket,
  // A function, so every reconnection sends the current token.
  connectionParams: () => ({ Authorization: `Bearer ${getAccessToken()}` }),
});

const client = new Client({
  url: API_URL,
  fetchOptions: () => ({ headers: { Authorization: `Bearer ${getAccessToken()}` } }),
  exchanges: [
    cacheExchange,
    fetchExchange,
    subscriptionExchange({
      forwardSubscription(request) {
        const input = { ...request, query: request.query || "" };
        return { subscribe: (sink) => ({ unsubscribe: wsClient.subscribe(input, sink) }) };
      },
    }),
  ],
});

const FEED = gql`
  subscription Feed { postPublished { id title author { name } } }
`;
// README:end

try {
  const me = await client.query(gql`{ me { email } }`, {}).toPromise();
  const received = [];
  const { unsubscribe } = client.subscription(FEED, {}).subscribe((result) => {
    received.push(result.error ? { error: result.error.message } : result.data.postPublished);
  });
  const published = await publishUntil(() => received.length > 0, accessToken);
  unsubscribe();
  await wsClient.dispose();
  report({ me: me.data?.me, meError: me.error?.message ?? null, received, published });
} catch (error) {
  fail(error);
}
