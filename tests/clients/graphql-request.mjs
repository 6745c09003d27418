// graphql-request: a query with the Authorization header, and an error's code read from the
// ClientError it throws.
import { API_URL, fail, login, report } from "./lib.mjs";

let accessToken = "";
const getAccessToken = () => accessToken;

// README:start graphql-request
import { ClientError, GraphQLClient, gql } from "graphql-request";

const client = new GraphQLClient(API_URL, {
  // A function: each request reads the current token.
  headers: () => (getAccessToken() ? { Authorization: `Bearer ${getAccessToken()}` } : {}),
});

async function placeOrder(productId) {
  try {
    const { placeOrder } = await client.request(
      gql`mutation Buy($id: ID!, $key: String!) {
        placeOrder(input: { items: [{ productId: $id, quantity: 1 }], idempotencyKey: $key }) { id status }
      }`,
      { id: productId, key: crypto.randomUUID() },
    );
    return placeOrder;
  } catch (error) {
    // A GraphQL error: its code is in extensions (UNAUTHENTICATED, OUT_OF_STOCK, …).
    if (error instanceof ClientError) return { code: error.response.errors[0].extensions.code };
    throw error;
  }
}
// README:end

try {
  const { products } = await client.request(gql`{ products(first: 1, filter: { inStock: true }) { nodes { id name } } }`);
  const product = products.nodes[0];
  const anonymous = await placeOrder(product.id);
  accessToken = await login("uma@agora.test");
  const { me } = await client.request(gql`{ me { id email } }`);
  const ordered = await placeOrder(product.id);
  report({ product, anonymous, me, ordered });
} catch (error) {
  fail(error);
}
