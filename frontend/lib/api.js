// The one API client: JSON in, JSON out, errors as ApiError carrying the server's message.

export class ApiError extends Error {
  constructor(message, status, code) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

function toQuery(params = {}) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null || value === "") continue;
    for (const item of Array.isArray(value) ? value : [value]) query.append(key, String(item));
  }
  const text = query.toString();
  return text ? `?${text}` : "";
}

async function parse(response) {
  const text = await response.text();
  let body = null;
  try {
    body = text ? JSON.parse(text) : {};
  } catch {
    body = null;
  }
  if (!response.ok) {
    const message = (body && body.message) || text || response.statusText;
    throw new ApiError(message, response.status, body && body.error_code);
  }
  return body;
}

/** GET path with query params (arrays repeat the key). */
export async function getJSON(path, params, { signal } = {}) {
  return parse(await fetch(path + toQuery(params), { signal, headers: { Accept: "application/json" } }));
}

/** POST a JSON body. */
export async function postJSON(path, body, { signal } = {}) {
  return parse(
    await fetch(path, {
      method: "POST",
      signal,
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body ?? {}),
    }),
  );
}

/** A URL for a GET (downloads, links) with the same query encoding. */
export function urlFor(path, params) {
  return path + toQuery(params);
}
