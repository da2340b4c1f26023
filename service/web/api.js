// The /v1 API client: the signed-in key (kept in sessionStorage only) goes in an
// `Authorization: Bearer` header; JSON or blob answers; errors become sentences a person
// understands, built from the API's {"error": {"code", "message"}} body.

const KEY = "styletrace.key";
const unauthorizedListeners = [];

export const session = {
  get key() {
    return sessionStorage.getItem(KEY);
  },
  set(key) {
    sessionStorage.setItem(KEY, key);
  },
  clear() {
    sessionStorage.removeItem(KEY);
  },
};

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message || `HTTP ${status}`);
    this.status = status;
    this.code = code;
    this.detail = message;
  }
}

const HINTS = {
  400: "The service could not use this input.",
  401: "Your key was not accepted: it may be mistyped or revoked. Sign in again with a valid key.",
  403: "Your key is not allowed to do this.",
  404: "Not found, or not visible to your key.",
  405: "The service does not offer this action.",
  409: "This conflicts with the current state.",
  413: "The file, or the image in it, is too large.",
  415: "This file is not an image the service can read.",
  422: "Some input was not accepted.",
  429: "Too many requests with this key; please wait a moment and try again.",
  503: "The service is busy or still starting; please try again in a moment.",
};

/** Call `fn(error)` whenever the API answers 401 (the key stopped working). */
export function onUnauthorized(fn) {
  unauthorizedListeners.push(fn);
}

/** A work id as a URL path: ids contain '/', each segment is encoded on its own. */
export function workPath(workId) {
  return workId.split("/").map(encodeURIComponent).join("/");
}

/** Call the API; resolves to parsed JSON (or a Blob with as: "blob"), rejects with ApiError. */
export async function call(path, { method = "GET", form, json, query, as = "json" } = {}) {
  const url = new URL(path, window.location.origin);
  for (const [name, value] of Object.entries(query ?? {})) {
    if (value !== undefined && value !== null && value !== "") url.searchParams.set(name, value);
  }
  const headers = { Authorization: `Bearer ${session.key ?? ""}` };
  let body;
  if (form) {
    body = form;
  } else if (json !== undefined) {
    body = JSON.stringify(json);
    headers["Content-Type"] = "application/json";
  }
  let response = await fetch(url, { method, headers, body });
  for (let retry = 0; retry < RETRIES && response.status === 429; retry += 1) {
    await pause(response.headers.get("Retry-After"));  // a rate limit: wait as told, then again
    response = await fetch(url, { method, headers, body });
  }
  if (!response.ok) throw await problem(response);
  return as === "blob" ? response.blob() : response.json();
}

const RETRIES = 3;

/** Wait Retry-After seconds (1 to 10; 1 when the header is missing or odd). */
function pause(retryAfter) {
  const seconds = Math.min(10, Math.max(1, Number.parseInt(retryAfter ?? "", 10) || 1));
  return new Promise((resolve) => setTimeout(resolve, seconds * 1000));
}

async function problem(response) {
  let code = "";
  let message = "";
  try {
    const body = await response.json();
    code = body?.error?.code ?? "";
    message = body?.error?.message ?? "";
  } catch {
    // not a JSON error body (a proxy's page, say): the status alone explains it
  }
  const error = new ApiError(response.status, code, message);
  if (response.status === 401) unauthorizedListeners.forEach((fn) => fn(error));
  return error;
}

/** A sentence for a person: what went wrong and, where the API said more, its words. */
export function explain(error) {
  if (error instanceof ApiError) {
    const hint =
      HINTS[error.status] ??
      (error.status >= 500
        ? "The service had a problem; please try again, and report it if it persists."
        : "The service refused the request.");
    return error.detail ? `${hint} ${sentence(error.detail)}` : hint;
  }
  if (error instanceof TypeError) {
    return "Could not reach the service. Check that it is running and try again.";
  }
  return String(error?.message ?? error);
}

function sentence(text) {
  const trimmed = text.trim();
  const capital = trimmed.charAt(0).toUpperCase() + trimmed.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}
