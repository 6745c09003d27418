// Apollo Client with automatic persisted queries (PersistedQueryLink): the first request sends
// only the hash and is told PERSISTED_QUERY_NOT_FOUND, the retry registers the document, and
// from then on only the hash travels, over GET (cacheable) or POST, from any client.
import { API_URL, fail, report, wire } from "./lib.mjs";

// README:start apollo-persisted
import { ApolloClient, HttpLink, InMemoryCache, gql } from "@apollo/client";
import { PersistedQueryLink } from "@apollo/client/link/persisted-queries";

// SHA-256 of the printed document, hex: Web Crypto, in browsers and Node alike.
async function sha256(text) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

function persistedClient({ useGETForHashedQueries }) {
  return new ApolloClient({
    // GET for hashed queries makes them cacheable by a CDN; mutations always go by POST.
    link: new PersistedQueryLink({ sha256, useGETForHashedQueries }).concat(
      new HttpLink({ uri: API_URL }),
    ),
    cache: new InMemoryCache(),
  });
}
// README:end

const PRODUCTS = gql`
  query Cheapest {
    products(first: 3, orderBy: PRICE, direction: ASC) { nodes { id name price } }
  }
`;

/** Each request from `from` on: its method and status, and the query text and persisted-query
 * extension it carried (in the URL for GET, the body for POST). */
function summary(from) {
  return wire.slice(from).map((request) => {
    const url = new URL(request.url);
    const params = request.method === "GET"
      ? { query: url.searchParams.get("query"), extensions: JSON.parse(url.searchParams.get("extensions") ?? "null") }
      : JSON.parse(request.body);
    return {
      method: request.method,
      status: request.status,
      query: params.query ?? null,
      persistedQuery: params.extensions?.persistedQuery ?? null,
      codes: request.response?.errors?.map((error) => error.extensions?.code) ?? [],
      cacheControl: request.cacheControl,
      etag: request.etag,
    };
  });
}

const cheapest = (client) =>
  client.query({ query: PRODUCTS, fetchPolicy: "network-only" }).then(
    (result) => result.data.products.nodes.map((product) => product.name),
    (error) => ({ error: error.message }),
  );

try {
  // A browser with GET for hashed queries: a miss, the registration, then hash-only hits.
  const browser = persistedClient({ useGETForHashedQueries: true });
  const results = [await cheapest(browser), await cheapest(browser), await cheapest(browser)];
  const browserWire = summary(0);
  // Another client, over POST: the document is already known, its first request is a hit.
  results.push(await cheapest(persistedClient({ useGETForHashedQueries: false })));
  report({ results, browser: browserWire, other: summary(browserWire.length) });
} catch (error) {
  fail(error);
}
