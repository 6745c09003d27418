// An upload by the GraphQL multipart request spec with plain fetch and FormData (what
// apollo-upload-client and urql's fetchExchange send for File variables), then the download.
// Usage: node upload.mjs <api url> <path of the file to upload>
import { openAsBlob } from "node:fs";
import { basename } from "node:path";
import { API_URL, fail, login, report } from "./lib.mjs";

const accessToken = await login("uma@agora.test");
const getAccessToken = () => accessToken;

// README:start upload
async function uploadFile(file, filename) {
  const body = new FormData();
  body.append("operations", JSON.stringify({
    query: `mutation Upload($file: Upload!) {
      uploadFile(file: $file, purpose: ATTACHMENT) { id filename contentType size url }
    }`,
    variables: { file: null },
  }));
  body.append("map", JSON.stringify({ 0: ["variables.file"] }));
  body.append("0", file, filename);
  const response = await fetch(API_URL, {
    method: "POST",
    // No Content-Type: fetch sets multipart/form-data with its boundary. X-Requested-With
    // (or Apollo-Require-Preflight) is the CSRF guard's header: a form cannot send it.
    headers: { Authorization: `Bearer ${getAccessToken()}`, "X-Requested-With": "fetch" },
    body,
  });
  return response.json();
}
// README:end

try {
  const path = process.argv[3];
  const uploaded = await uploadFile(await openAsBlob(path), basename(path));
  const file = uploaded.data?.uploadFile;
  let downloaded = null;
  if (file) {
    const response = await fetch(file.url);
    downloaded = {
      status: response.status,
      contentType: response.headers.get("content-type"),
      base64: Buffer.from(await response.arrayBuffer()).toString("base64"),
    };
  }
  report({ uploaded, downloaded });
} catch (error) {
  fail(error);
}
