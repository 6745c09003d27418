// Apollo Client's BatchHttpLink: ten queries issued together travel as one HTTP request (a
// JSON array of ten operations) and each gets its own result.
import { API_URL, fail, login, report, wire } from "./lib.mjs";

const accessToken = await login("uma@agora.test");
const getAccessToken = () => accessToken;

// README:start apollo-batch
import { ApolloClient, InMemoryCache, gql } from "@apollo/client";
import { BatchHttpLink } from "@apollo/client/link/batch-http";

const client = new ApolloClient({
  // Operations issued within 10 ms of each other share one POST, at most 10 per batch (the
  // server's QUERY_MAX_BATCH); together they stay within QUERY_MAX_COST.
  link: new BatchHttpLink({
    uri: API_URL,
    batchMax: 10,
    batchInterval: 10,
    headers: { Authorization: `Bearer ${getAccessToken()}` },
  }),
  cache: new InMemoryCache(),
});
// README:end

const POST = gql`
  query Post($id: ID!) { node(id: $id) { id ... on Post { title } } }
`;

try {
  const ids = Array.from({ length: 10 }, (_, index) => Buffer.from(`Post:${index + 1}`).toString("base64"));
  const results = await Promise.all(
    ids.map((id) =>
      client.query({ query: POST, variables: { id } }).then(
        (result) => result.data.node,
        (error) => ({ error: error.message }),
      ),
    ),
  );
  report({
    ids,
    results,
    requests: wire.map((request) => {
      const body = JSON.parse(request.body);
      return { status: request.status, operations: Array.isArray(body) ? body.length : 1 };
    }),
  });
} catch (error) {
  fail(error);
}
