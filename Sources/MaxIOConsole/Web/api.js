// The console's client of /api/v1: the session lives in an HttpOnly cookie; state-changing calls send the
// CSRF token the login answered with (kept in a readable cookie). Errors become Error objects with the
// server's message, which the pages show as they are.

function cookie(name) {
  for (const part of document.cookie.split(";")) {
    const [k, ...v] = part.trim().split("=");
    if (k === name) return decodeURIComponent(v.join("="));
  }
  return null;
}

export class APIError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export async function api(method, path, body) {
  const headers = { "Accept": "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && method !== "HEAD") {
    const csrf = cookie("maxiofs_csrf");
    if (csrf) headers["X-CSRF-Token"] = csrf;
  }
  let response;
  try {
    response = await fetch("/api/v1" + path, {
      method, headers, credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new APIError(0, "NetworkError", "The server cannot be reached. Check that it is running.");
  }
  let data = null;
  const text = await response.text();
  if (text) {
    try { data = JSON.parse(text); } catch { data = null; }
  }
  if (!response.ok) {
    const err = data && data.error;
    if (response.status === 401 && !path.startsWith("/auth/login")) {
      window.dispatchEvent(new CustomEvent("maxiofs:logged-out"));
    }
    throw new APIError(response.status, err ? err.code : String(response.status),
      err ? err.message : `The server answered ${response.status}.`);
  }
  return data;
}

export const get = (path) => api("GET", path);
export const post = (path, body = {}) => api("POST", path, body);
export const patch = (path, body = {}) => api("PATCH", path, body);
export const put = (path, body = {}) => api("PUT", path, body);
export const del = (path) => api("DELETE", path);

/** Builds a query string from an object, leaving out empty values. */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== "") q.set(k, v);
  const s = q.toString();
  return s ? "?" + s : "";
}

// ---- S3 through the console (/api/v1/s3/...): the server acts for the session's user ----

/** The path of a bucket or object under the S3 gateway; each key segment encoded, slashes kept. */
export function s3Path(bucket, key) {
  let p = "/api/v1/s3/" + encodeURIComponent(bucket);
  if (key !== undefined && key !== null) p += "/" + key.split("/").map(encodeURIComponent).join("/");
  return p;
}

/** An S3 error document's Code and Message, as an APIError. */
function s3Error(status, text) {
  const doc = text ? new DOMParser().parseFromString(text, "application/xml") : null;
  const code = doc && doc.querySelector("Error > Code");
  const message = doc && doc.querySelector("Error > Message");
  if (status === 401) window.dispatchEvent(new CustomEvent("maxiofs:logged-out"));
  let json = null;
  try { json = JSON.parse(text); } catch { json = null; }
  if (json && json.error) return new APIError(status, json.error.code, json.error.message);
  return new APIError(status, code ? code.textContent : String(status),
    message ? message.textContent : `The server answered ${status}.`);
}

/** An S3 request; resolves to the Response when it succeeded. */
export async function s3(method, path, { body, headers = {} } = {}) {
  const h = { ...headers };
  if (method !== "GET" && method !== "HEAD") {
    const csrf = cookie("maxiofs_csrf");
    if (csrf) h["X-CSRF-Token"] = csrf;
  }
  let response;
  try {
    response = await fetch(path, { method, headers: h, body, credentials: "same-origin" });
  } catch (e) {
    throw new APIError(0, "NetworkError", "The server cannot be reached. Check that it is running.");
  }
  if (!response.ok) throw s3Error(response.status, await response.text());
  return response;
}

/** One page of ListObjectsV2 with `/` as the delimiter: { folders, objects, next }. */
export async function listObjects(bucket, prefix, token, max = 200) {
  const q = new URLSearchParams({ "list-type": "2", delimiter: "/", "max-keys": String(max) });
  if (prefix) q.set("prefix", prefix);
  if (token) q.set("continuation-token", token);
  const text = await (await s3("GET", s3Path(bucket) + "?" + q.toString())).text();
  const doc = new DOMParser().parseFromString(text, "application/xml");
  const all = (el, name) => Array.from(el.children).filter((c) => c.localName === name);
  const one = (el, name) => { const c = all(el, name)[0]; return c ? c.textContent : null; };
  const root = doc.documentElement;
  return {
    folders: all(root, "CommonPrefixes").map((p) => one(p, "Prefix")),
    objects: all(root, "Contents").map((c) => ({
      key: one(c, "Key"), size: Number(one(c, "Size")), modified: one(c, "LastModified"), etag: one(c, "ETag"),
    })),
    next: one(root, "IsTruncated") === "true" ? one(root, "NextContinuationToken") : null,
  };
}

/** PUTs a file with progress (XMLHttpRequest: fetch has no upload progress). */
export function uploadObject(bucket, key, file, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("PUT", s3Path(bucket, key));
    const csrf = cookie("maxiofs_csrf");
    if (csrf) xhr.setRequestHeader("X-CSRF-Token", csrf);
    if (file.type) xhr.setRequestHeader("Content-Type", file.type);
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) onProgress(e.loaded / e.total); };
    xhr.onload = () => xhr.status >= 200 && xhr.status < 300 ? resolve() : reject(s3Error(xhr.status, xhr.responseText));
    xhr.onerror = () => reject(new APIError(0, "NetworkError", "The upload was interrupted."));
    xhr.send(file);
  });
}
