// The JSON API, called with the session cookie. State-changing calls send
// the session's CSRF token (X-CSRF-Token), as the API requires.

let csrf = '';

export function setCSRF(token) { csrf = token || ''; }

// ApiError carries the HTTP status and the API's message.
export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export async function api(method, path, body) {
  const opt = {method, headers: {Accept: 'application/json'}, credentials: 'same-origin'};
  if (method !== 'GET' && method !== 'HEAD') opt.headers['X-CSRF-Token'] = csrf;
  if (body !== undefined) {
    opt.headers['Content-Type'] = 'application/json';
    opt.body = JSON.stringify(body);
  }
  const res = await fetch(path, opt);
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
  if (!res.ok) {
    throw new ApiError(res.status, (data && data.error) || res.statusText);
  }
  return data;
}

export const get = (path) => api('GET', path);

// qs builds a query string from an object, skipping empty values.
export function qs(params) {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') u.set(k, v);
  }
  const s = u.toString();
  return s ? '?' + s : '';
}
