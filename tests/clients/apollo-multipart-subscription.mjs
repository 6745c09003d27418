// Apollo Client with only an HttpLink: a subscription goes over HTTP as a multipart response
// (Apollo's multipart subscription protocol), no websocket link needed.
import { API_URL, fail, login, publishUntil, report, wire } from "./lib.mjs";

const accessToken = await login("admin@agora.test");
const getAccessToken = () => accessToken;

// README:start apollo-multipart-subscription
import { ApolloClient, HttpLink, InMemoryCache, gql } from "@apollo/client";

// No websocket link: HttpLink sends the subscription as a POST with
// Accept: multipart/mixed;subscriptionSpec=1.0 and reads each event as it arrives.
const client = new ApolloClient({
  link: new HttpLink({ uri: API_URL, headers: { Authorization: `Bearer ${getAccessToken()}` } }),
  cache: new InMemoryCache(),
});

const POST_PUBLISHED = gql`
  subscription PostPublished { postPublished { id title author { name } } }
`;
// README:end

try {
  const received = [];
  const errors = [];
  const subscription = client.subscribe({ query: POST_PUBLISHED }).subscribe({
    next: (result) => (result.error ? errors.push(result.error.message) : received.push(result.data.postPublished)),
    error: (error) => errors.push(String(error)),
  });
  const published = await publishUntil(() => received.length > 0 || errors.length > 0, accessToken);
  subscription.unsubscribe();
  report({
    received,
    errors,
    published,
    requests: wire.map((request) => ({ method: request.method, status: request.status, contentType: request.contentType, accept: request.headers.accept })),
  });
} catch (error) {
  fail(error);
}
