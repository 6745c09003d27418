// urql's persistedExchange (automatic persisted queries): a miss, the registration, then the
// hash alone, all over GET.
import { API_URL, fail, report, wire } from "./lib.mjs";

// README:start urql-persisted
import { Client, cacheExchange, fetchExchange, gql } from "@urql/core";
import { persistedExchange } from "@urql/exchange-persisted";

const client = new Client({
  url: API_URL,
  exchanges: [
    cacheExchange,
    // Hashes with Web Crypto; by GET (cacheable), the retry after a miss with the document too.
    persistedExchange({ preferGetForPersistedQueries: true }),
    fetchExchange,
  ],
});
// README:end

const CHEAPEST = gql`
  query CheapestProducts { products(first: 2, orderBy: PRICE, direction: ASC) { nodes { id name } } }
`;

try {
  const results = [];
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const result = await client.query(CHEAPEST, {}, { requestPolicy: "network-only" }).toPromise();
    results.push(result.error ? { error: result.error.message } : result.data.products.nodes.map((p) => p.name));
  }
  report({
    results,
    requests: wire.map((request) => {
      const url = new URL(request.url);
      const params = request.method === "GET"
        ? { query: url.searchParams.get("query"), extensions: JSON.parse(url.searchParams.get("extensions") ?? "null") }
        : JSON.parse(request.body);
      return {
        method: request.method,
        status: request.status,
        contentType: request.contentType,
        query: params.query ?? null,
        persistedQuery: params.extensions?.persistedQuery ?? null,
      };
    }),
  });
} catch (error) {
  fail(error);
}
