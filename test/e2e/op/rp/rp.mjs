// The apps of Gatehouse's OpenID Provider end-to-end suite (../op_test.go):
// npm `openid-client` 6 (a certified relying party library, pinned in
// package.json and package-lock.json) does every protocol step an app
// does, with all of its checks: discovery, the authorization URL with PKCE
// S256, state and nonce, the callback (state, iss, code, then the ID token's
// signature, iss, aud, exp, iat, nonce), refresh, userinfo (sub), revocation,
// introspection, the end-session URL and the device grant. The access
// token is checked as an API checks one (oauth4webapi's RFC 9068
// validateJwtAccessToken), and back-channel logout tokens as an app's
// endpoint checks them (OpenID Connect Back-Channel Logout 1.0 2.6, with
// `jose`).
//
// Gatehouse runs on http://127.0.0.1 in the test: openid-client refuses
// plain http unless told otherwise, so every configuration is made with
// allowInsecureRequests, on purpose, and only for that reason.
//
// Protocol: one JSON object a line on stdin, {"id": N, "op": NAME, ...};
// one answer a line on stdout, {"id": N, "ok": true, "result": ...} or
// {"id": N, "ok": false, "error": {name, message, code, error,
// error_description, status}}. The first line written is
// {"ready": true, "backchannel": "http://127.0.0.1:PORT"}: the base of the
// back-channel logout endpoints, POST {backchannel}/bcl/{app}. Requests are
// answered as they finish, so a slow one (device_result) does not hold up
// the others. The process ends when stdin closes.

import * as client from 'openid-client';
import * as oauth from 'oauth4webapi';
import * as jose from 'jose';
import http from 'node:http';
import readline from 'node:readline';

const BACKCHANNEL_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

// apps by name: {config, clientId, jwks, pending: {verifier, state, nonce}}
const apps = new Map();
// device flows by handle: a promise of the poll's outcome
const devices = new Map();
let nextDevice = 1;
// back-channel logouts received, in order: {app, status, claims?, error?}
const logouts = [];
const seenJTIs = new Set();

function app(name) {
  const a = apps.get(name);
  if (!a) throw new Error(`no app ${JSON.stringify(name)}: discover it first`);
  return a;
}

function tokensOut(tokens) {
  const out = { ...tokens };
  const claims = tokens.claims?.();
  if (claims) out.claims = claims;
  return out;
}

const ops = {
  // discover: the app's configuration from the issuer's discovery document,
  // with client_secret_basic when a secret is given, none otherwise.
  async discover({ app: name, issuer, client_id, client_secret, redirect_uri }) {
    const auth = client_secret ? client.ClientSecretBasic(client_secret) : client.None();
    const metadata = { client_id };
    if (redirect_uri) metadata.redirect_uris = [redirect_uri];
    const config = await client.discovery(new URL(issuer), client_id, metadata, auth, {
      execute: [client.allowInsecureRequests], // http://127.0.0.1 in the test; see the top
    });
    const as = config.serverMetadata();
    apps.set(name, { config, clientId: client_id, jwks: jose.createRemoteJWKSet(new URL(as.jwks_uri)), pending: null });
    return { metadata: as };
  },

  // authorize_url: a new authorization request with PKCE S256, state and
  // nonce, remembered as the app's pending one.
  async authorize_url({ app: name, redirect_uri, scope, params }) {
    const a = app(name);
    const verifier = client.randomPKCECodeVerifier();
    const pending = { verifier, state: client.randomState(), nonce: client.randomNonce() };
    const url = client.buildAuthorizationUrl(a.config, {
      redirect_uri,
      scope: scope ?? 'openid email profile',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state: pending.state,
      nonce: pending.nonce,
      ...(params ?? {}),
    });
    a.pending = pending;
    return { url: url.href, state: pending.state, nonce: pending.nonce };
  },

  // callback: the authorization response the browser brought back, redeemed
  // with the pending request's verifier, state and nonce.
  async callback({ app: name, url }) {
    const a = app(name);
    if (!a.pending) throw new Error(`app ${name} has no pending authorization request`);
    const { verifier, state, nonce } = a.pending;
    a.pending = null;
    const tokens = await client.authorizationCodeGrant(a.config, new URL(url), {
      pkceCodeVerifier: verifier,
      expectedState: state,
      expectedNonce: nonce,
      idTokenExpected: true,
    });
    return tokensOut(tokens);
  },

  async refresh({ app: name, refresh_token }) {
    return tokensOut(await client.refreshTokenGrant(app(name).config, refresh_token));
  },

  async userinfo({ app: name, access_token, expected_sub }) {
    return await client.fetchUserInfo(app(name).config, access_token, expected_sub);
  },

  async revoke({ app: name, token, token_type_hint }) {
    await client.tokenRevocation(app(name).config, token, token_type_hint ? { token_type_hint } : undefined);
    return {};
  },

  async introspect({ app: name, token }) {
    return await client.tokenIntrospection(app(name).config, token);
  },

  // access_token: the access token checked as a resource server checks an
  // RFC 9068 JWT access token for audience.
  async access_token({ app: name, access_token, audience }) {
    const as = app(name).config.serverMetadata();
    const req = new Request('http://api.invalid/', { headers: { authorization: `Bearer ${access_token}` } });
    return await oauth.validateJwtAccessToken(as, req, audience, { [oauth.allowInsecureRequests]: true });
  },

  async end_session_url({ app: name, params }) {
    return { url: client.buildEndSessionUrl(app(name).config, params ?? {}).href };
  },

  // device_start: a device authorization request, then polling the token
  // endpoint in the background as the device does (device_result waits for
  // the outcome).
  async device_start({ app: name, scope }) {
    const a = app(name);
    const res = await client.initiateDeviceAuthorization(a.config, { scope: scope ?? 'openid email profile' });
    const handle = String(nextDevice++);
    const started = Date.now();
    devices.set(handle, client.pollDeviceAuthorizationGrant(a.config, res).then(
      (tokens) => ({ ok: true, seconds: (Date.now() - started) / 1000, tokens: tokensOut(tokens) }),
      (err) => ({ ok: false, seconds: (Date.now() - started) / 1000, error: errorOut(err) }),
    ));
    return { handle, response: res };
  },

  async device_result({ handle }) {
    const p = devices.get(handle);
    if (!p) throw new Error(`no device flow ${handle}`);
    return await p;
  },

  async logouts() {
    return logouts.slice();
  },
};

// verifyLogoutToken checks a logout token as OpenID Connect Back-Channel
// Logout 1.0 2.6 says the app must: signature with the provider's keys,
// typ logout+jwt, iss, aud the app, iat and exp, jti never seen, sub or sid,
// the back-channel logout event, no nonce.
async function verifyLogoutToken(a, token) {
  const as = a.config.serverMetadata();
  const { payload, protectedHeader } = await jose.jwtVerify(token, a.jwks, {
    issuer: as.issuer,
    audience: a.clientId,
    typ: 'logout+jwt',
    algorithms: as.id_token_signing_alg_values_supported,
    requiredClaims: ['iat', 'exp', 'jti'],
  });
  if (!payload.sub && !payload.sid) throw new Error('logout token has neither sub nor sid');
  const events = payload.events;
  if (typeof events !== 'object' || events === null || typeof events[BACKCHANNEL_EVENT] !== 'object' || events[BACKCHANNEL_EVENT] === null) {
    throw new Error('logout token lacks the back-channel logout event');
  }
  if ('nonce' in payload) throw new Error('logout token has a nonce');
  if (seenJTIs.has(payload.jti)) throw new Error(`logout token jti ${payload.jti} replayed`);
  seenJTIs.add(payload.jti);
  return { header: protectedHeader, claims: payload };
}

// The back-channel logout endpoints: POST /bcl/{app}, form-encoded
// logout_token; 200 when it verifies, 400 otherwise (both recorded).
const server = http.createServer((req, res) => {
  const m = /^\/bcl\/([^/?]+)$/.exec(req.url);
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (c) => { body += c; });
  req.on('end', async () => {
    const rec = { app: m?.[1] ?? '', method: req.method, content_type: req.headers['content-type'] ?? '' };
    try {
      if (!m || req.method !== 'POST') throw new Error(`unexpected ${req.method} ${req.url}`);
      if (!rec.content_type.startsWith('application/x-www-form-urlencoded')) throw new Error(`content type ${rec.content_type}`);
      const token = new URLSearchParams(body).get('logout_token');
      if (!token) throw new Error('no logout_token');
      const v = await verifyLogoutToken(app(m[1]), token);
      rec.claims = v.claims;
      rec.header = v.header;
      rec.status = 200;
    } catch (err) {
      rec.error = errorOut(err);
      rec.status = 400;
    }
    logouts.push(rec);
    res.writeHead(rec.status, { 'cache-control': 'no-store', 'content-type': 'application/json' });
    res.end(rec.status === 200 ? '{}' : JSON.stringify({ error: 'invalid_request' }));
  });
});

function errorOut(err) {
  const out = { name: err?.name, message: String(err?.message ?? err) };
  for (const k of ['code', 'error', 'error_description', 'status']) {
    if (err?.[k] !== undefined) out[k] = err[k];
  }
  if (err?.cause) out.cause = err.cause instanceof Error ? String(err.cause.message) : err.cause;
  return out;
}

function write(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

server.listen(0, '127.0.0.1', () => {
  write({ ready: true, backchannel: `http://127.0.0.1:${server.address().port}` });
  const rl = readline.createInterface({ input: process.stdin });
  rl.on('line', async (line) => {
    let req;
    try {
      req = JSON.parse(line);
    } catch (err) {
      write({ id: null, ok: false, error: errorOut(err) });
      return;
    }
    try {
      const f = ops[req.op];
      if (!f) throw new Error(`unknown op ${req.op}`);
      write({ id: req.id, ok: true, result: await f(req) });
    } catch (err) {
      write({ id: req.id, ok: false, error: errorOut(err) });
    }
  });
  rl.on('close', () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  });
});
