// Apollo Client 4 reading a @stream list in the graphql-js 17 alpha 9 format: the first post
// arrives at once, the others in a later part, and the cache appends them.
import { API_URL, fail, report, wire } from "./lib.mjs";

// README:start apollo-stream
import { ApolloClient, HttpLink, InMemoryCache, gql } from "@apollo/client";
import { GraphQL17Alpha9Handler } from "@apollo/client/incremental";

const client = new ApolloClient({
  link: new HttpLink({ uri: API_URL }),
  cache: new InMemoryCache(),
  // Accept: multipart/mixed;incrementalSpec=v0.2 (the server speaks both formats).
  incrementalHandler: new GraphQL17Alpha9Handler(),
});

const STREAMED = gql`
  query StreamedPosts {
    posts(first: 4, orderBy: PUBLISHED_AT, direction: ASC) {
      nodes @stream(initialCount: 1) { id title }
    }
  }
`;
// README:end

try {
  // With @stream the data is "complete" from the first part on: `loading` says whether more
  // items are coming.
  const states = [];
  await new Promise((resolve, reject) => {
    const subscription = client.watchQuery({ query: STREAMED }).subscribe({
      next: (result) => {
        if (result.error) {
          subscription.unsubscribe();
          reject(result.error);
          return;
        }
        if (result.data) {
          states.push({ loading: result.loading, ids: result.data.posts.nodes.map((post) => post.id) });
        }
        if (!result.loading) {
          subscription.unsubscribe();
          resolve();
        }
      },
      error: reject,
    });
  });
  report({
    states,
    requests: wire.map((request) => ({ status: request.status, contentType: request.contentType })),
  });
} catch (error) {
  fail(error);
}
