// A scripted OpenID Provider for Gatehouse's end-to-end tests: several
// issuers of oidc-provider 9 (npm `oidc-provider`, pinned in package.json)
// served by one Node process on one port of 127.0.0.1. Started by ../op.sh;
// everything is kept in memory except the signing keys (STATE_DIR/keys.json).
//
//   node server.mjs --config CONFIG.json --port PORT [--state STATE_DIR]
//   (or the environment: OP_CONFIG, OP_PORT, OP_STATE_DIR; OP_ADMIN_TOKEN,
//   when set, must be sent to /_admin/ as "Authorization: Bearer TOKEN")
//
// CONFIG.json:
//
//   {
//     "users": {                                  // every issuer knows these users
//       "alice":   { "password": "alicepass", "email": "alice@example.com",
//                    "email_verified": true, "name": "Alice Example",
//                    "preferred_username": "alice@example.com" },
//       "mallory": { "password": "mallorypass", "email": "alice@example.com",
//                    "email_verified": false, "name": "Mallory",
//                    "preferred_username": "mallory@example.net" }
//     },
//     "issuers": [
//       { "path": "/plain",
//         "clients": [
//           { "client_id": "gatehouse", "client_secret": "s3cret",
//             "redirect_uris": ["http://127.0.0.1:8080/sso/oidc/CONFIG_ID/callback"] },
//           { "client_id": "gatehouse-public",
//             "redirect_uris": ["http://127.0.0.1:8080/sso/oidc/CONFIG_ID/callback"] } ] },
//       { "path": "/11111111-1111-4111-8111-111111111111/v2.0",
//         "tenant_id": "11111111-1111-4111-8111-111111111111",
//         "pairwise_subject": true,
//         "users": { "alice": { "oid": "aaaaaaaa-0000-4000-8000-000000000001" } },
//         "clients": [ ... ] },
//       { "path": "/common/v2.0", "entra_common": true,
//         "tenant_id": "11111111-1111-4111-8111-111111111111" }
//     ]
//   }
//
// Users: "password" is required; "sub" is the account ID (default: the login
// name); "email", "email_verified", "name", "preferred_username",
// "given_name", "family_name" are released with the scopes email and profile;
// "oid" (Entra issuers only; default: a GUID derived from tenant and login,
// stable across restarts); "claims": any further claims, released in every ID
// token, and they override the ones above (e.g. a "tid" that disagrees with
// the issuer); "disabled": true hides the user from that issuer.
// An issuer's "users" object is merged over the top-level one, user by user.
//
// Issuers: "path" is where the issuer lives (issuer = http://127.0.0.1:PORT
// + path; its endpoints are path + /auth, /token, /jwks, /me,
// /.well-known/openid-configuration, ...). Options:
//   "tenant_id"        Entra-like: ID tokens carry "tid" (this GUID) and "oid";
//                      use the path "/{tenant_id}/v2.0" for Entra's issuer form
//   "pairwise_subject" "sub" is a per-client value (as Entra's per-app sub)
//   "consent_page"     show a consent form (default: consent is granted silently)
//   "pkce_required"    "public" (default: clients without a secret) or "all"
//   "signing_alg"      "RS256" (default), "PS256" or "ES256"
//   "entra_common"     not an issuer: imitates Entra's /common/v2.0 (see below)
// Clients are oidc-provider client metadata (snake_case, as in dynamic
// registration). Defaults: response_types ["code"], grant_types
// ["authorization_code"], token_endpoint_auth_method "client_secret_basic"
// with a client_secret and "none" (a public client, PKCE S256 required)
// without one.
//
// Entra "common": discovery at PATH/.well-known/openid-configuration with the
// templated issuer "http://127.0.0.1:PORT/{tenantid}/v2.0"; PATH/jwks is the
// union of every tenant issuer's keys; PATH/auth redirects to the current
// tenant's /auth ("tenant_id", changed with POST /_admin/common); PATH/token
// hands the request to the tenant that issued the code. Everything else in
// that discovery document points at the current tenant.
//
// Admin endpoints (JSON in, JSON out; see ../op.sh):
//   GET  /_admin/state                             issuers, keys, clients, down switches
//   POST /_admin/rotate {issuer, keep_old}         new signing key, made the active one
//   POST /_admin/down   {issuer?, what?}           what = "metadata" (default: discovery and
//                                                  JWKS answer 503) or "all" (every endpoint)
//   POST /_admin/up     {issuer?}                  undo down (no issuer: every issuer)
//   POST /_admin/client {issuer, client}           add or replace a client
//   POST /_admin/common {issuer, tenant_id}        choose the tenant behind an entra_common path
//   POST /_admin/reload                            re-read CONFIG.json (also on SIGHUP)

import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import * as querystring from 'node:querystring';

import Provider from 'oidc-provider';

// ---- arguments ---------------------------------------------------------------

function parseArgs(argv) {
  const out = {
    config: process.env.OP_CONFIG,
    port: process.env.OP_PORT,
    state: process.env.OP_STATE_DIR,
    host: '127.0.0.1',
  };
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i].replace(/^--/, '');
    if (!(name in out) || i + 1 >= argv.length) {
      fatal(`usage: server.mjs --config CONFIG.json --port PORT [--state DIR] (unknown or incomplete argument ${argv[i]})`);
    }
    out[name] = argv[++i];
  }
  if (!out.config) fatal('no config file: --config CONFIG.json or OP_CONFIG');
  if (!/^[0-9]+$/.test(String(out.port ?? '')) || Number(out.port) < 1 || Number(out.port) > 65535) {
    fatal('no valid port: --port PORT or OP_PORT');
  }
  out.port = Number(out.port);
  return out;
}

function fatal(msg) {
  console.error(`op: ${msg}`);
  process.exit(2);
}

function log(msg) {
  console.log(`${new Date().toISOString()} ${msg}`);
}

const args = parseArgs(process.argv.slice(2));
const BASE = `http://${args.host}:${args.port}`;
const ADMIN_TOKEN = process.env.OP_ADMIN_TOKEN || '';
const COOKIE_KEYS = [crypto.randomBytes(32).toString('base64url')];
const ALGS = new Set(['RS256', 'PS256', 'ES256']);
const PROFILE_CLAIMS = ['name', 'preferred_username', 'given_name', 'family_name'];
const EMAIL_CLAIMS = ['email', 'email_verified'];

class ConfigError extends Error {}

function check(cond, msg) {
  if (!cond) throw new ConfigError(msg);
}

// ---- keys ----------------------------------------------------------------------

// RFC 7638 thumbprint: the key IDs look like Entra's and never collide.
function thumbprint(jwk) {
  const members = jwk.kty === 'EC'
    ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y }
    : { e: jwk.e, kty: jwk.kty, n: jwk.n };
  return crypto.createHash('sha256').update(JSON.stringify(members)).digest('base64url');
}

function newKey(alg) {
  const { privateKey } = alg === 'ES256'
    ? crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' })
    : crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = privateKey.export({ format: 'jwk' });
  return { ...jwk, kid: thumbprint(jwk), alg, use: 'sig' };
}

const keysFile = args.state ? path.join(args.state, 'keys.json') : null;

function loadKeys() {
  if (!keysFile || !fs.existsSync(keysFile)) return {};
  try {
    return JSON.parse(fs.readFileSync(keysFile, 'utf8'));
  } catch (err) {
    fatal(`cannot read ${keysFile}: ${err.message}`);
  }
  return {};
}

function saveKeys() {
  if (!keysFile) return;
  const all = {};
  for (const st of issuers.values()) {
    if (!st.common) all[st.path] = st.keys;
  }
  const tmp = `${keysFile}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(all, null, 2), { mode: 0o600 });
  fs.renameSync(tmp, keysFile);
}

// ---- storage -------------------------------------------------------------------

// One in-memory store per issuer (oidc-provider's own memory adapter is shared
// by every Provider in the process). It outlives the Provider objects, which
// are rebuilt on rotation and reload, so sign-ins in progress survive those.
function memoryAdapter() {
  const store = new Map();
  const now = () => Date.now();
  const get = (key) => {
    const e = store.get(key);
    if (!e) return undefined;
    if (e.exp && e.exp <= now()) {
      store.delete(key);
      return undefined;
    }
    return e.value;
  };
  const set = (key, value, expiresIn) => {
    store.set(key, { value, exp: typeof expiresIn === 'number' ? now() + expiresIn * 1000 : 0 });
  };
  setInterval(() => {
    for (const [key, e] of store) if (e.exp && e.exp <= now()) store.delete(key);
  }, 60_000).unref();

  class MemoryAdapter {
    constructor(model) { this.model = model; }

    key(id) { return `${this.model}:${id}`; }

    async upsert(id, payload, expiresIn) {
      set(this.key(id), payload, expiresIn);
      if (this.model === 'Session' && payload.uid) set(`sessionUid:${payload.uid}`, id, expiresIn);
      if (payload.userCode) set(`userCode:${payload.userCode}`, id, expiresIn);
      if (payload.grantId) {
        const members = get(`grant:${payload.grantId}`) ?? [];
        members.push(this.key(id));
        set(`grant:${payload.grantId}`, members);
      }
    }

    async find(id) { return get(this.key(id)); }

    async findByUid(uid) {
      const id = get(`sessionUid:${uid}`);
      return id === undefined ? undefined : this.find(id);
    }

    async findByUserCode(userCode) {
      const id = get(`userCode:${userCode}`);
      return id === undefined ? undefined : this.find(id);
    }

    async consume(id) {
      const payload = get(this.key(id));
      if (payload) payload.consumed = Math.floor(now() / 1000);
    }

    async destroy(id) { store.delete(this.key(id)); }

    async revokeByGrantId(grantId) {
      for (const key of get(`grant:${grantId}`) ?? []) store.delete(key);
      store.delete(`grant:${grantId}`);
    }
  }
  return { Adapter: MemoryAdapter, has: (model, id) => get(`${model}:${id}`) !== undefined };
}

// ---- configuration -------------------------------------------------------------

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

// A GUID derived from the tenant and the login: stable across restarts.
function derivedOid(tenant, login) {
  const b = crypto.createHash('sha256').update(`oid\0${tenant}\0${login}`).digest();
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = b.subarray(0, 16).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function readConfig() {
  let cfg;
  try {
    cfg = JSON.parse(fs.readFileSync(args.config, 'utf8'));
  } catch (err) {
    throw new ConfigError(`cannot read ${args.config}: ${err.message}`);
  }
  check(cfg && typeof cfg === 'object', 'the config must be a JSON object');
  check(Array.isArray(cfg.issuers) && cfg.issuers.length, 'the config needs "issuers": [...]');
  const seen = new Set();
  for (const ic of cfg.issuers) {
    check(typeof ic.path === 'string' && /^\/[A-Za-z0-9._~\-/]*[A-Za-z0-9._~-]$/.test(ic.path),
      `issuer path ${JSON.stringify(ic.path)}: must start with / and not end with /`);
    check(!ic.path.startsWith('/_admin'), `issuer path ${ic.path}: /_admin is reserved`);
    check(!seen.has(ic.path), `issuer path ${ic.path} appears twice`);
    seen.add(ic.path);
    if (ic.tenant_id !== undefined) {
      check(GUID.test(ic.tenant_id), `${ic.path}: tenant_id must be a lower-case GUID`);
    }
    check(ic.signing_alg === undefined || ALGS.has(ic.signing_alg),
      `${ic.path}: signing_alg must be one of ${[...ALGS].join(', ')}`);
    check(ic.pkce_required === undefined || ['public', 'all'].includes(ic.pkce_required),
      `${ic.path}: pkce_required must be "public" or "all"`);
    if (ic.entra_common) {
      check(ic.tenant_id, `${ic.path}: entra_common needs the tenant_id of a tenant issuer`);
    } else {
      check(Array.isArray(ic.clients ?? []), `${ic.path}: clients must be an array`);
    }
  }
  for (const ic of cfg.issuers.filter((i) => i.entra_common)) {
    check(cfg.issuers.some((i) => !i.entra_common && i.tenant_id === ic.tenant_id),
      `${ic.path}: no issuer has tenant_id ${ic.tenant_id}`);
  }
  return cfg;
}

function issuerUsers(cfg, ic) {
  const global = cfg.users ?? {};
  const local = ic.users ?? {};
  const byLogin = new Map();
  const byAccount = new Map();
  for (const login of new Set([...Object.keys(global), ...Object.keys(local)])) {
    const u = {
      ...global[login],
      ...local[login],
      claims: { ...global[login]?.claims, ...local[login]?.claims },
      login,
    };
    if (u.disabled) continue;
    check(typeof u.password === 'string', `user ${login} (issuer ${ic.path}) has no password`);
    u.sub = String(u.sub ?? login);
    if (ic.tenant_id) u.oid ??= derivedOid(ic.tenant_id, login);
    check(!byAccount.has(u.sub), `two users of issuer ${ic.path} have the sub ${u.sub}`);
    byLogin.set(login, u);
    byAccount.set(u.sub, u);
  }
  return { byLogin, byAccount };
}

function normalizeClient(c, ic) {
  check(c && typeof c === 'object' && typeof c.client_id === 'string' && c.client_id,
    `${ic.path}: every client needs a client_id`);
  const m = structuredClone(c);
  m.token_endpoint_auth_method ??= m.client_secret ? 'client_secret_basic' : 'none';
  return m;
}

// ---- issuers -------------------------------------------------------------------

const issuers = new Map(); // path -> state
const persistedKeys = loadKeys();

function userClaims(st, u) {
  const c = { sub: u.sub };
  for (const k of [...EMAIL_CLAIMS, ...PROFILE_CLAIMS]) {
    if (u[k] !== undefined) c[k] = u[k];
  }
  if (st.cfg.tenant_id) {
    c.tid = st.cfg.tenant_id;
    c.oid = u.oid;
  }
  return { ...c, ...u.claims };
}

function claimsConfig(st) {
  const extra = new Set();
  for (const u of st.users.byLogin.values()) {
    for (const k of Object.keys(u.claims)) extra.add(k);
  }
  const scoped = new Set(['sub', ...EMAIL_CLAIMS, ...PROFILE_CLAIMS]);
  const openid = ['sub'];
  if (st.cfg.tenant_id) openid.push('tid', 'oid');
  for (const k of extra) if (!scoped.has(k) && !openid.includes(k)) openid.push(k);
  return { openid, email: EMAIL_CLAIMS, profile: PROFILE_CLAIMS };
}

function slug(p) {
  return p.replace(/^\//, '').replace(/[^A-Za-z0-9]+/g, '_');
}

function esc(s) {
  return String(s ?? '').replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

function page(title, body) {
  return `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>${esc(title)}</title></head>
<body>
${body}
</body>
</html>
`;
}

async function renderError(ctx, out) {
  ctx.type = 'html';
  ctx.body = page('OpenID Provider error', `<h1>OpenID Provider error</h1>
<p id="error">${esc(out.error)}</p>
<p id="error_description">${esc(out.error_description)}</p>`);
}

function buildProvider(st) {
  const { cfg } = st;
  const alg = cfg.signing_alg ?? 'RS256';
  const names = `op${args.port}_${slug(st.path)}`;
  const clients = [...new Map([
    ...(cfg.clients ?? []).map((c) => [c.client_id, c]),
    ...st.addedClients,
  ]).values()].map((c) => normalizeClient(c, cfg));

  const provider = new Provider(st.issuer, {
    adapter: st.storage.Adapter,
    clients,
    clientDefaults: {
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: alg,
      subject_type: cfg.pairwise_subject ? 'pairwise' : 'public',
    },
    subjectTypes: cfg.pairwise_subject ? ['public', 'pairwise'] : ['public'],
    // Entra's sub is per application: derive it from the client ID rather than
    // the sector (the host of the redirect URIs).
    pairwiseIdentifier: async (ctx, accountId, client) => crypto.createHash('sha256')
      .update(`${st.issuer}\0${client.clientId}\0${accountId}`).digest('base64url'),
    claims: claimsConfig(st),
    conformIdTokenClaims: false,
    findAccount: async (ctx, id) => {
      const u = st.users.byAccount.get(id);
      if (!u) return undefined;
      return { accountId: id, claims: async () => userClaims(st, u) };
    },
    cookies: {
      keys: COOKIE_KEYS,
      names: { session: `${names}_session`, interaction: `${names}_interaction`, resume: `${names}_resume` },
      long: { httpOnly: true, sameSite: 'lax' },
      short: { httpOnly: true, sameSite: 'lax' },
    },
    features: {
      devInteractions: { enabled: false },
    },
    interactions: {
      url: async (ctx, interaction) => `${st.path}/interaction/${interaction.uid}`,
    },
    jwks: { keys: st.keys },
    pkce: {
      required: (ctx, client) => cfg.pkce_required === 'all' || client.clientAuthMethod === 'none',
    },
    renderError,
    responseTypes: ['code'],
    ttl: {
      AccessToken: 3600,
      AuthorizationCode: 120,
      IdToken: 3600,
      Interaction: 600,
      Grant: 8 * 3600,
      Session: 8 * 3600,
    },
  });
  for (const ev of ['authorization.error', 'grant.error', 'server_error', 'userinfo.error']) {
    provider.on(ev, (ctx, err) => log(`${st.path}: ${ev}: ${err.error ?? err.name}: ${err.error_description ?? err.message}${err.cause ? ` (${err.cause.message ?? err.cause})` : ''}`));
  }
  return provider;
}

// install builds the Provider for st and checks every client, then puts it in
// service: a broken client or configuration leaves the old one serving.
async function install(st) {
  const provider = buildProvider(st);
  const ids = new Set([...(st.cfg.clients ?? []).map((c) => c.client_id), ...st.addedClients.keys()]);
  for (const id of ids) {
    try {
      if (!(await provider.Client.find(id))) throw new Error('not found');
    } catch (err) {
      throw new ConfigError(`${st.path}: client ${id}: ${err.error_description ?? err.message}`);
    }
  }
  st.provider = provider;
  st.handler = provider.callback();
}

async function applyConfig(cfg) {
  const next = new Map();
  for (const ic of cfg.issuers) {
    const old = issuers.get(ic.path);
    const st = {
      path: ic.path,
      issuer: BASE + ic.path,
      cfg: ic,
      common: !!ic.entra_common,
      down: old?.down ?? null,
      tenant: ic.tenant_id,
    };
    if (!st.common) {
      const alg = ic.signing_alg ?? 'RS256';
      st.storage = old?.storage ?? memoryAdapter();
      st.addedClients = old?.addedClients ?? new Map();
      st.keys = old?.keys ?? persistedKeys[ic.path];
      if (!Array.isArray(st.keys) || !st.keys.length || st.keys[0].alg !== alg) st.keys = [newKey(alg)];
      st.users = issuerUsers(cfg, ic);
      await install(st);
    }
    next.set(ic.path, st);
  }
  issuers.clear();
  for (const [k, v] of next) issuers.set(k, v);
  saveKeys();
}

async function reload() {
  await applyConfig(readConfig());
  log(`config ${args.config}: ${[...issuers.keys()].join(', ')}`);
}

// ---- requests ------------------------------------------------------------------

function send(res, status, type, body, headers = {}) {
  res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store', ...headers });
  res.end(body);
}

function json(res, status, obj) {
  send(res, status, 'application/json; charset=utf-8', `${JSON.stringify(obj, null, 2)}\n`);
}

function html(res, status, body) {
  send(res, status, 'text/html; charset=utf-8', body);
}

async function readBody(req) {
  const chunks = [];
  let n = 0;
  for await (const chunk of req) {
    n += chunk.length;
    if (n > 64 * 1024) throw new Error('request body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function findIssuer(pathname) {
  let best;
  for (const st of issuers.values()) {
    if ((pathname === st.path || pathname.startsWith(`${st.path}/`)) && (!best || st.path.length > best.path.length)) {
      best = st;
    }
  }
  return best;
}

function isMetadata(rest) {
  return rest === '/.well-known/openid-configuration' || rest === '/jwks';
}

function unavailable(res, st) {
  send(res, 503, 'application/json; charset=utf-8', `${JSON.stringify({
    error: 'temporarily_unavailable',
    error_description: `${st.path} is down (op.sh down)`,
  })}\n`, { 'Retry-After': '1' });
}

async function handle(req, res) {
  const u = new URL(req.url, BASE);
  if (u.pathname === '/_admin' || u.pathname.startsWith('/_admin/')) {
    await admin(req, res, u);
    return;
  }
  const st = findIssuer(u.pathname);
  if (!st) {
    json(res, 404, { error: 'not_found', error_description: `no issuer at ${u.pathname}`, issuers: [...issuers.keys()] });
    return;
  }
  const rest = u.pathname.slice(st.path.length) || '/';
  if (st.down === 'all' || (st.down === 'metadata' && isMetadata(rest))) {
    unavailable(res, st);
    return;
  }
  if (st.common) {
    await common(st, req, res, u, rest);
    return;
  }
  const m = /^\/interaction\/([A-Za-z0-9_-]+)(?:\/(login|confirm|abort))?$/.exec(rest);
  if (m) {
    await interaction(st, req, res, m[1], m[2]);
    return;
  }
  req.originalUrl = req.url;
  req.url = rest + u.search;
  await st.handler(req, res);
}

// ---- interactions --------------------------------------------------------------

function loginPage(st, uid, details, error, login) {
  const action = `${st.path}/interaction/${uid}`;
  return page(`Sign in - ${st.issuer}`, `<h1>Sign in</h1>
<p>Issuer: <code id="issuer">${esc(st.issuer)}</code>, client: <code id="client_id">${esc(details.params.client_id)}</code></p>
${error ? `<p id="error" role="alert">${esc(error)}</p>\n` : ''}<form id="login" method="post" action="${esc(action)}/login">
<input type="hidden" name="prompt" value="login">
<label>Login <input type="text" name="login" value="${esc(login)}" autocomplete="username" autofocus></label>
<label>Password <input type="password" name="password" autocomplete="current-password"></label>
<button type="submit">Sign in</button>
</form>
<form id="abort" method="post" action="${esc(action)}/abort"><button type="submit">Cancel</button></form>`);
}

function consentPage(st, uid, details) {
  const action = `${st.path}/interaction/${uid}`;
  const scopes = [...(details.prompt.details.missingOIDCScope ?? [])];
  return page(`Consent - ${st.issuer}`, `<h1>Allow access?</h1>
<p>Client <code id="client_id">${esc(details.params.client_id)}</code> asks for: <code id="scopes">${esc(scopes.join(' '))}</code></p>
<form id="consent" method="post" action="${esc(action)}/confirm">
<input type="hidden" name="prompt" value="consent">
<button type="submit">Accept</button>
</form>
<form id="abort" method="post" action="${esc(action)}/abort"><button type="submit">Cancel</button></form>`);
}

async function grantConsent(st, req, res, details) {
  const { provider } = st;
  const { prompt: { details: missing }, params, session } = details;
  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
    grant.addResourceScope(indicator, scopes.join(' '));
  }
  const grantId = await grant.save();
  const consent = details.grantId ? {} : { grantId };
  await provider.interactionFinished(req, res, { consent }, { mergeWithLastSubmission: true });
}

async function interaction(st, req, res, uid, action) {
  const { provider } = st;
  try {
    const details = await provider.interactionDetails(req, res);
    if (details.uid !== uid) throw new Error('this interaction is not the one in progress in this browser');
    const prompt = details.prompt.name;
    const method = req.method;

    if (action === 'abort' && method === 'POST') {
      await provider.interactionFinished(req, res, {
        error: 'access_denied', error_description: 'End-User aborted interaction',
      }, { mergeWithLastSubmission: false });
      return;
    }
    if (action === undefined && method === 'GET') {
      if (prompt === 'login') {
        html(res, 200, loginPage(st, uid, details, '', details.params.login_hint ?? ''));
        return;
      }
      if (prompt === 'consent') {
        if (st.cfg.consent_page) {
          html(res, 200, consentPage(st, uid, details));
        } else {
          await grantConsent(st, req, res, details);
        }
        return;
      }
      throw new Error(`unexpected prompt ${prompt}`);
    }
    if (action === 'login' && method === 'POST') {
      if (prompt !== 'login') throw new Error(`a login was posted, but the prompt is ${prompt}`);
      const form = querystring.parse(await readBody(req));
      const login = String(form.login ?? '');
      const u = st.users.byLogin.get(login);
      if (!u || u.password !== String(form.password ?? '')) {
        log(`${st.path}: wrong login or password for ${JSON.stringify(login)}`);
        html(res, 200, loginPage(st, uid, details, 'Invalid login or password.', login));
        return;
      }
      log(`${st.path}: ${login} signed in (account ${u.sub}) for client ${details.params.client_id}`);
      await provider.interactionFinished(req, res, {
        login: { accountId: u.sub, amr: ['pwd'] },
      }, { mergeWithLastSubmission: false });
      return;
    }
    if (action === 'confirm' && method === 'POST') {
      if (prompt !== 'consent') throw new Error(`a consent was posted, but the prompt is ${prompt}`);
      await readBody(req);
      await grantConsent(st, req, res, details);
      return;
    }
    html(res, 405, page('Method not allowed', `<h1>Method not allowed</h1><p id="error">${esc(method)} ${esc(action ?? '')}</p>`));
  } catch (err) {
    log(`${st.path}: interaction ${uid}: ${err.name}: ${err.message}`);
    html(res, 400, page('OpenID Provider error', `<h1>OpenID Provider error</h1>
<p id="error">${esc(err.error ?? err.name)}</p>
<p id="error_description">${esc(err.error_description ?? err.message)}</p>`));
  }
}

// ---- Entra "common" --------------------------------------------------------------

function tenantIssuers() {
  return [...issuers.values()].filter((s) => !s.common && s.tenant);
}

async function common(st, req, res, u, rest) {
  const tenant = tenantIssuers().find((s) => s.tenant === st.tenant);
  if (!tenant) {
    json(res, 500, { error: 'server_error', error_description: `no issuer for tenant ${st.tenant}` });
    return;
  }
  if (rest === '/.well-known/openid-configuration' && req.method === 'GET') {
    const r = await fetch(`${tenant.issuer}/.well-known/openid-configuration`);
    if (!r.ok) {
      send(res, r.status, 'application/json; charset=utf-8', await r.text());
      return;
    }
    const doc = await r.json();
    doc.issuer = `${BASE}/{tenantid}/v2.0`;
    doc.authorization_endpoint = `${st.issuer}/auth`;
    doc.token_endpoint = `${st.issuer}/token`;
    doc.jwks_uri = `${st.issuer}/jwks`;
    json(res, 200, doc);
    return;
  }
  if (rest === '/jwks' && req.method === 'GET') {
    const keys = [];
    for (const s of tenantIssuers()) {
      const r = await fetch(`${s.issuer}/jwks`);
      if (!r.ok) {
        send(res, r.status, 'application/json; charset=utf-8', await r.text());
        return;
      }
      keys.push(...(await r.json()).keys);
    }
    json(res, 200, { keys });
    return;
  }
  if (rest === '/auth') {
    res.writeHead(302, { Location: `${tenant.path}/auth${u.search}`, 'Cache-Control': 'no-store' });
    res.end();
    return;
  }
  if (rest === '/token' && req.method === 'POST') {
    const body = await readBody(req);
    const code = String(querystring.parse(body).code ?? '');
    const target = tenantIssuers().find((s) => s.storage.has('AuthorizationCode', code)) ?? tenant;
    req.body = body; // oidc-provider reads an already-read body from req.body
    req.originalUrl = req.url;
    req.url = `/token${u.search}`;
    await target.handler(req, res);
    return;
  }
  json(res, 404, { error: 'not_found', error_description: `${st.path} serves only /.well-known/openid-configuration, /jwks, /auth and /token` });
}

// ---- admin -----------------------------------------------------------------------

function publicKey(k) {
  const { d, p, q, dp, dq, qi, ...pub } = k;
  return pub;
}

function stateOf() {
  return {
    base: BASE,
    issuers: [...issuers.values()].map((st) => (st.common
      ? { path: st.path, issuer: `${BASE}/{tenantid}/v2.0`, entra_common: true, tenant_id: st.tenant, down: st.down }
      : {
        path: st.path,
        issuer: st.issuer,
        tenant_id: st.tenant,
        active_kid: st.keys[0].kid,
        kids: st.keys.map((k) => k.kid),
        clients: [...new Set([...(st.cfg.clients ?? []).map((c) => c.client_id), ...st.addedClients.keys()])],
        users: [...st.users.byLogin.keys()],
        down: st.down,
      })),
  };
}

function adminIssuer(body, { common: allowCommon = false } = {}) {
  const st = issuers.get(body.issuer);
  check(st, `no issuer at ${JSON.stringify(body.issuer)}; issuers: ${[...issuers.keys()].join(', ')}`);
  check(allowCommon || !st.common, `${st.path} is an entra_common path, not an issuer`);
  return st;
}

async function admin(req, res, u) {
  if (ADMIN_TOKEN) {
    const got = Buffer.from(req.headers.authorization ?? '');
    const want = Buffer.from(`Bearer ${ADMIN_TOKEN}`);
    if (got.length !== want.length || !crypto.timingSafeEqual(got, want)) {
      json(res, 401, { error: 'unauthorized', error_description: 'send Authorization: Bearer <OP_ADMIN_TOKEN>' });
      return;
    }
  }
  const route = `${req.method} ${u.pathname}`;
  try {
    let body = {};
    if (req.method === 'POST') {
      const raw = await readBody(req);
      if (raw.trim()) body = JSON.parse(raw);
    }
    switch (route) {
      case 'GET /_admin/state':
        json(res, 200, stateOf());
        return;
      case 'POST /_admin/rotate': {
        const st = adminIssuer(body);
        const key = newKey(st.keys[0].alg);
        const before = st.keys;
        st.keys = body.keep_old === false ? [key] : [key, ...before];
        try {
          await install(st);
        } catch (err) {
          st.keys = before;
          throw err;
        }
        saveKeys();
        log(`${st.path}: rotated: active kid ${key.kid}, published ${st.keys.map((k) => k.kid).join(', ')}`);
        json(res, 200, { issuer: st.issuer, active_kid: key.kid, kids: st.keys.map((k) => k.kid), jwks: { keys: st.keys.map(publicKey) } });
        return;
      }
      case 'POST /_admin/down':
      case 'POST /_admin/up': {
        const what = route.endsWith('/up') ? null : (body.what ?? 'metadata');
        check(what === null || what === 'metadata' || what === 'all', 'what must be "metadata" or "all"');
        const targets = body.issuer ? [adminIssuer(body, { common: true })] : [...issuers.values()];
        for (const st of targets) st.down = what;
        log(`${targets.map((s) => s.path).join(', ')}: ${what ? `down (${what})` : 'up'}`);
        json(res, 200, stateOf());
        return;
      }
      case 'POST /_admin/client': {
        const st = adminIssuer(body);
        const c = normalizeClient(body.client, st.cfg);
        const before = st.addedClients.get(c.client_id);
        st.addedClients.set(c.client_id, c);
        try {
          await install(st);
        } catch (err) {
          if (before) st.addedClients.set(c.client_id, before); else st.addedClients.delete(c.client_id);
          throw err;
        }
        log(`${st.path}: client ${c.client_id} set (redirect_uris ${JSON.stringify(c.redirect_uris)})`);
        json(res, 200, { issuer: st.issuer, client_id: c.client_id });
        return;
      }
      case 'POST /_admin/common': {
        const st = adminIssuer(body, { common: true });
        check(st.common, `${st.path} is not an entra_common path`);
        check(tenantIssuers().some((s) => s.tenant === body.tenant_id), `no issuer has tenant_id ${JSON.stringify(body.tenant_id)}`);
        st.tenant = body.tenant_id;
        log(`${st.path}: now tenant ${st.tenant}`);
        json(res, 200, stateOf());
        return;
      }
      case 'POST /_admin/reload':
        await reload();
        json(res, 200, stateOf());
        return;
      default:
        json(res, 404, { error: 'not_found', error_description: `no admin route ${route}` });
    }
  } catch (err) {
    const status = err instanceof ConfigError || err instanceof SyntaxError ? 400 : 500;
    log(`admin ${route}: ${err.message}`);
    json(res, status, { error: status === 400 ? 'invalid_request' : 'server_error', error_description: err.message });
  }
}

// ---- main ------------------------------------------------------------------------

try {
  await reload();
} catch (err) {
  fatal(err instanceof ConfigError ? err.message : err.stack);
}

const server = http.createServer((req, res) => {
  const started = Date.now();
  res.on('finish', () => {
    log(`${req.method} ${(req.originalUrl ?? req.url).split('?')[0]} ${res.statusCode} ${Date.now() - started}ms`);
  });
  handle(req, res).catch((err) => {
    log(`${req.method} ${req.url}: ${err.stack}`);
    if (!res.headersSent) json(res, 500, { error: 'server_error', error_description: err.message });
    else res.destroy();
  });
});
server.on('error', (err) => fatal(`cannot listen on ${args.host}:${args.port}: ${err.message}`));
server.listen(args.port, args.host, () => {
  log(`listening on ${BASE} (node ${process.version}, oidc-provider, pid ${process.pid})`);
});

process.on('SIGHUP', () => {
  reload().catch((err) => log(`reload failed, keeping the old configuration: ${err.message}`));
});
for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => {
    log(`${sig}: stopping`);
    server.close();
    server.closeAllConnections();
    process.exit(0);
  });
}
