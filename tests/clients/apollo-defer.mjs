// Apollo Client 4 reading a @defer query: the posts arrive first, their comments in a later
// part of the multipart/mixed response, and the cache merges both.
import { API_URL, fail, report, wire } from "./lib.mjs";

// README:start apollo-defer
import { ApolloClient, HttpLink, InMemoryCache, gql } from "@apollo/client";
import { Defer20220824Handler } from "@apollo/client/incremental";

const client = new ApolloClient({
  link: new HttpLink({ uri: API_URL }),
  cache: new InMemoryCache(),
  // Apollo Client 4 reads incremental results only with a handler for their format.
  incrementalHandler: new Defer20220824Handler(),
});

const FEED = gql`
  query FeedWithComments {
    posts(first: 3, orderBy: PUBLISHED_AT, direction: ASC) {
      nodes {
        id
        title
        ... @defer(label: "comments") {
          comments(first: 2) { nodes { id body author { name } } }
        }
      }
    }
  }
`;
// README:end

try {
  // Every state the query goes through: partial data while streaming, then complete.
  const states = [];
  await new Promise((resolve, reject) => {
    const subscription = client.watchQuery({ query: FEED }).subscribe({
      next: (result) => {
        if (result.error) {
          subscription.unsubscribe();
          reject(result.error);
          return;
        }
        if (result.data) {
          states.push({
            dataState: result.dataState,
            posts: result.data.posts.nodes.map((post) => ({
              id: post.id,
              title: post.title,
              comments: post.comments ? post.comments.nodes.map((comment) => comment.id) : null,
            })),
          });
        }
        if (result.dataState === "complete") {
          subscription.unsubscribe();
          resolve();
        }
      },
      error: reject,
    });
  });
  report({
    states,
    requests: wire.map((request) => ({ status: request.status, contentType: request.contentType, accept: request.headers.accept })),
  });
} catch (error) {
  fail(error);
}
