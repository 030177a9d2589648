// The playground's session: one management access token, kept in sessionStorage (this tab
// only, gone when it closes), renewed with `refreshAccessToken` before it expires.
// The pool secret is never stored.

const KEY = 'orgraph.playground.session';
// Renew when this share of the lifetime has passed, and at least this long before the end.
const RENEW_AT = 0.8;
const RENEW_MARGIN_MS = 60_000;

// The page is served at `<prefix>/graphql`, which is also the GraphQL endpoint; subscriptions
// are on `<prefix>/graphql/ws`. Derived from the page's own URL: the page only ever talks to the
// server that served it (no `?endpoint=` override that a crafted link could point elsewhere).
const page = `${location.origin}${location.pathname.replace(/\/+$/, '')}`;
export const endpoints = {
  http: page,
  ws: `${page.replace(/^http/, 'ws')}/ws`,
};

let session = load(); // {token, exp, iat, poolId} | null
let renewTimer = null;
const listeners = new Set();

export function current() {
  return session && session.exp * 1000 > Date.now() ? session : null;
}

export function token() {
  return current()?.token ?? null;
}

export function onChange(fn) {
  listeners.add(fn);
  fn(session, null);
  return () => listeners.delete(fn);
}

/** POST one operation to /graphql without GraphiQL (connect and renew). */
async function post(query, variables, bearer) {
  const headers = { 'content-type': 'application/json', accept: 'application/json' };
  if (bearer) headers.authorization = `Bearer ${bearer}`;
  const res = await fetch(endpoints.http, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  const body = await res.json().catch(() => null);
  if (!body) throw new Error(`HTTP ${res.status}`);
  if (body.errors?.length) throw new Error(body.errors.map((e) => e.message).join('; '));
  return body.data;
}

export async function connect(poolId, secret) {
  const data = await post(
    'query PlaygroundConnect($userPoolId: String!, $secret: String!) { accessToken(userPoolId: $userPoolId, secret: $secret) { accessToken exp iat } }',
    { userPoolId: poolId, secret },
  );
  set({ ...data.accessToken, poolId, token: data.accessToken.accessToken });
}

/** A token pasted by hand: its times and pool come from its (unverified) JWT payload. */
export function useToken(raw) {
  const tok = raw.trim().replace(/^Bearer\s+/i, '');
  const claims = decodeJwt(tok);
  if (!claims?.exp) throw new Error('not a JWT with an exp claim');
  if (claims.exp * 1000 <= Date.now()) throw new Error('this token has expired');
  set({ token: tok, exp: claims.exp, iat: claims.iat ?? null, poolId: claims.scoped_userpool_id ?? claims.sub ?? '?' });
}

export async function renew() {
  const s = current();
  if (!s) throw new Error('no valid token to renew: connect again');
  const data = await post(
    'mutation PlaygroundRenew($t: String) { refreshAccessToken(accessToken: $t) { accessToken exp iat } }',
    { t: s.token },
    s.token,
  );
  set({ ...data.refreshAccessToken, poolId: s.poolId, token: data.refreshAccessToken.accessToken });
}

export function disconnect() {
  set(null);
}

function set(next) {
  const prev = session;
  session = next ? { token: next.token, exp: next.exp, iat: next.iat, poolId: next.poolId } : null;
  if (session) sessionStorage.setItem(KEY, JSON.stringify(session));
  else sessionStorage.removeItem(KEY);
  schedule();
  for (const fn of listeners) fn(session, prev);
}

function load() {
  try {
    const s = JSON.parse(sessionStorage.getItem(KEY));
    return s?.token && s.exp * 1000 > Date.now() ? s : null;
  } catch {
    return null;
  }
}

function schedule() {
  clearTimeout(renewTimer);
  renewTimer = null;
  if (!session) return;
  const now = Date.now();
  const exp = session.exp * 1000;
  const iat = (session.iat ?? session.exp - 3600) * 1000;
  const at = Math.min(iat + (exp - iat) * RENEW_AT, exp - Math.min(RENEW_MARGIN_MS, (exp - iat) / 4));
  renewTimer = setTimeout(() => {
    renew().catch((e) => {
      for (const fn of listeners) fn(session, session, e);
      // Retry once a little later while the token still holds; otherwise it simply expires.
      if (current()) renewTimer = setTimeout(() => renew().catch(() => {}), 10_000);
    });
  }, Math.max(0, at - now));
}

// Background tabs run timers late: check again when the tab comes back.
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible') {
    if (session && !current()) set(null);
    else schedule();
  }
});

export function decodeJwt(t) {
  try {
    const part = t.split('.')[1];
    const json = atob(part.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(part.length / 4) * 4, '='));
    return JSON.parse(json);
  } catch {
    return null;
  }
}

// A token kept from earlier in this tab: renew it on time too.
schedule();
