// Apollo Client over HTTP (HttpLink, the Authorization header), and its normalised cache: a
// mutation's answer updates every cached query that shows the same object.
import { API_URL, fail, login, report, wire } from "./lib.mjs";

let accessToken = "";
const getAccessToken = () => accessToken;

// README:start apollo-http
import { ApolloClient, HttpLink, InMemoryCache, gql } from "@apollo/client";
import { SetContextLink } from "@apollo/client/link/context";

// The access token from `login` on every request; none when anonymous (a bad one is a 401).
const authLink = new SetContextLink(({ headers }) => {
  const token = getAccessToken();
  return { headers: { ...headers, ...(token && { Authorization: `Bearer ${token}` }) } };
});

const client = new ApolloClient({
  link: authLink.concat(new HttpLink({ uri: API_URL })),
  cache: new InMemoryCache(), // ids are global (Relay), so `__typename:id` keys are unique
  // Sent as apollographql-client-name/-version headers (a browser preflights them: allowed).
  clientAwareness: { name: "agora-web", version: "1.4.2" },
});

const FEED = gql`
  query Feed {
    posts(first: 20) { nodes { id title author { id name } } }
  }
`;
const RENAME = gql`
  mutation Rename($name: String!) {
    updateProfile(input: { name: $name }) { id name }
  }
`;
// README:end

try {
  const feed = await client.query({ query: FEED });
  const users = Object.keys(client.cache.extract()).filter((key) => key.startsWith("User:"));
  const posts = feed.data.posts.nodes;

  accessToken = await login("bo@agora.test");
  const me = await client.mutate({ mutation: RENAME, variables: { name: "Bo Renamed" } });
  const requestsBeforeRead = wire.length;
  // From the cache only: the feed's posts by Bo now show the name the mutation returned.
  const cached = client.readQuery({ query: FEED });
  report({
    posts: posts.length,
    authors: [...new Set(posts.map((post) => post.author.id))].length,
    cachedUsers: users,
    renamed: me.data.updateProfile,
    cachedAuthorsAfterRename: cached.posts.nodes.map((post) => post.author),
    requestsBeforeRead,
  });
} catch (error) {
  fail(error);
}
