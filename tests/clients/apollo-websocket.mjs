// Apollo Client with a websocket for subscriptions (GraphQLWsLink on a graphql-ws client) and
// HttpLink for the rest, split by operation type.
import { API_URL, WS_URL, fail, login, publishUntil, report, wire } from "./lib.mjs";

const accessToken = await login("uma@agora.test");
const getAccessToken = () => accessToken;

// README:start apollo-websocket
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache, gql } from "@apollo/client";
import { GraphQLWsLink } from "@apollo/client/link/subscriptions";
import { createClient } from "graphql-ws";
import WebSocket from "ws"; // Node only; browsers have their own WebSocket

const wsLink = new GraphQLWsLink(
  createClient({
    url: WS_URL,
    webSocketImpl: WebSocket,
    connectionParams: () => ({ Authorization: `Bearer ${getAccessToken()}` }),
  }),
);
const httpLink = new HttpLink({
  uri: API_URL,
  headers: { Authorization: `Bearer ${getAccessToken()}` },
});

const client = new ApolloClient({
  // Subscriptions over the websocket, queries and mutations over HTTP.
  link: ApolloLink.split((operation) => operation.operationType === "subscription", wsLink, httpLink),
  cache: new InMemoryCache(),
});
// README:end

const MY_POSTS = gql`
  subscription PostsAsPublished { postPublished { id title author { name } } }
`;

try {
  const me = await client.query({ query: gql`query Me { me { email } }` });
  const received = [];
  const errors = [];
  const subscription = client.subscribe({ query: MY_POSTS }).subscribe({
    next: (result) => (result.error ? errors.push(result.error.message) : received.push(result.data.postPublished)),
    error: (error) => errors.push(String(error)),
  });
  const published = await publishUntil(() => received.length > 0 || errors.length > 0, accessToken);
  subscription.unsubscribe();
  report({
    me: me.data.me,
    received,
    errors,
    published,
    httpRequests: wire.map((request) => JSON.parse(request.body).operationName),
  });
} catch (error) {
  fail(error);
}
