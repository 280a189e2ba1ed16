// The gateway's own JWT flow: the access token lives only in this module's memory; the refresh token is an
// HttpOnly cookie the script never sees (sent by the browser to /api/v1/auth only, with the custom header
// that a cross-site request cannot carry).
const CONSOLE_HEADER = { 'X-SmartGrid-Console': '1' };
let session = null;
let refreshing = null;

export const currentUser = () => session?.user ?? null;

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

async function tokens(path, init = {}) {
  const response = await fetch(`/api/v1/auth/${path}`, {
    method: 'POST', credentials: 'same-origin', ...init,
    headers: { ...CONSOLE_HEADER, ...(init.headers || {}) },
  });
  if (!response.ok) throw new ApiError(response.status, await problemOf(response));
  session = await response.json();
  return session;
}

export const login = (email, password) =>
  tokens('login', { headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ email, password }) });

/** Silent refresh: on load, and when the access token is refused. One at a time (rotation refuses a reuse). */
export function refresh() {
  refreshing ??= tokens('refresh').finally(() => { refreshing = null; });
  return refreshing;
}

export async function logout() {
  if (session) await request('POST', '/auth/logout').catch(() => {});
  session = null;
}

async function problemOf(response) {
  try { return await response.json(); } catch { return null; }
}

export async function request(method, path, body, retried = false) {
  if (!session) await refresh();
  const headers = { Authorization: `Bearer ${session.access_token}` };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(`/api/v1${path}`, {
    method, headers, credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 401 && !retried) {
    await refresh();
    return request(method, path, body, true);
  }
  if (!response.ok) throw new ApiError(response.status, await problemOf(response));
  return response.status === 204 ? null : response.json();
}

export const get = (path) => request('GET', path);

/**
 * The live stream (server-sent events) read with fetch, so the bearer token goes in a header and never into a URL.
 * Reconnects after a drop or at token expiry (the server ends the stream then), with the refreshed token.
 */
export function subscribe(onEvent, signal, onDrop = () => {}) {
  (async () => {
    while (!signal.aborted) {
      try {
        if (!session) await refresh();
        const response = await fetch('/api/v1/console/events', {
          headers: { Authorization: `Bearer ${session.access_token}`, Accept: 'text/event-stream' }, signal,
        });
        if (response.status === 401) { await refresh(); continue; }
        if (!response.ok) throw new ApiError(response.status, null);
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          let end;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            let kind = 'message';
            const data = [];
            for (const line of block.split('\n')) {
              if (line.startsWith('event: ')) kind = line.slice(7);
              else if (line.startsWith('data: ')) data.push(line.slice(6));
            }
            if (data.length) onEvent(kind, JSON.parse(data.join('\n')));
          }
        }
      } catch (e) {
        if (signal.aborted) return;
        onDrop();
        await new Promise((r) => setTimeout(r, 2000));
      }
    }
  })();
}
