// Apollo Client against a server that runs only trusted documents (TRUSTED_DOCUMENTS_MODE=
// allow-list): the operation ids come from the manifest the build wrote
// (persisted-query-manifest.json, the format of @apollo/generate-persisted-query-manifest),
// so only ids travel. A document outside the manifest is refused.
import { readFileSync } from "node:fs";
import { API_URL, fail, report, wire } from "./lib.mjs";

// In a browser bundle: `() => import("./persisted-query-manifest.json")`.
const loadManifest = () => JSON.parse(readFileSync("persisted-query-manifest.json", "utf8"));

// README:start apollo-trusted
import { ApolloClient, HttpLink, InMemoryCache, gql } from "@apollo/client";
import { PersistedQueryLink } from "@apollo/client/link/persisted-queries";
import { generatePersistedQueryIdsFromManifest } from "@apollo/persisted-query-lists";

const client = new ApolloClient({
  // Each operation is sent as the id the manifest gives its name: never its text.
  link: new PersistedQueryLink(generatePersistedQueryIdsFromManifest({ loadManifest })).concat(
    new HttpLink({ uri: API_URL }),
  ),
  cache: new InMemoryCache(),
});
// README:end

const TRUSTED = gql`
  query TrustedCatalogue {
    products(first: 2, orderBy: PRICE, direction: ASC) { nodes { id name price } }
  }
`;

try {
  const trusted = await client.query({ query: TRUSTED });
  const trustedWire = wire.map((request) => ({ status: request.status, body: JSON.parse(request.body) }));
  // Any other document, sent as text by a plain HttpLink: refused.
  const plain = new ApolloClient({ link: new HttpLink({ uri: API_URL }), cache: new InMemoryCache() });
  const unlisted = await plain.query({ query: gql`query Untrusted { products(first: 1) { nodes { id } } }` }).then(
    (result) => ({ data: result.data }),
    (error) => ({ codes: error.errors?.map((e) => e.extensions?.code) ?? [], message: error.message }),
  );
  report({ trusted: trusted.data.products.nodes, trustedWire, unlisted });
} catch (error) {
  fail(error);
}
