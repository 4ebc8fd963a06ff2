// node oidc-provider (a certified OpenID provider) as a third-party peer for Tessera's tests.
// See README.md for the clients, users, endpoints and environment variables.
//
// It listens on 127.0.0.1:$PORT (0 = any free port) and, once ready, prints ONE line of JSON on
// stdout: {"event":"ready","port":N,"issuer":"http://127.0.0.1:N",...}. Everything else goes to
// stderr. It stops on SIGTERM, SIGINT, or when its stdin closes (so a test that dies never leaves
// it running).
import http from 'node:http';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import Provider, { errors } from 'oidc-provider';

const HOST = process.env.HOST || '127.0.0.1';
const PORT = Number(process.env.PORT || 0);
const AT_TTL = Number(process.env.ACCESS_TOKEN_TTL || 300); // seconds
const RT_TTL = Number(process.env.REFRESH_TOKEN_TTL || 3600);
const RESOURCE = process.env.RESOURCE || 'https://api.peer.example/';
const RESOURCE_SCOPE = 'api:read api:write';
const AT_FORMAT = process.env.AT_FORMAT || 'jwt'; // format of tokens for RESOURCE: jwt | opaque

const jwk = (kp) => kp.privateKey.export({ format: 'jwk' });

// The provider's own signing keys: throwaway, made at each start.
const providerKeys = {
  keys: [
    { ...jwk(generateKeyPairSync('rsa', { modulusLength: 2048 })), use: 'sig', alg: 'RS256', kid: 'peer-rs256' },
    { ...jwk(generateKeyPairSync('ec', { namedCurve: 'P-256' })), use: 'sig', alg: 'ES256', kid: 'peer-es256' },
  ],
};

// The private_key_jwt client's public keys: from PEER_PKJWT_JWKS (a JWKS as JSON), else a key pair
// made here whose private half is reported in the ready line.
let pkjwtPrivate = null;
let pkjwtJwks;
if (process.env.PEER_PKJWT_JWKS) {
  pkjwtJwks = JSON.parse(process.env.PEER_PKJWT_JWKS);
} else {
  const priv = { ...jwk(generateKeyPairSync('ec', { namedCurve: 'P-256' })), alg: 'ES256', kid: 'pkjwt-es256' };
  pkjwtPrivate = priv;
  const { d, ...pub } = priv;
  pkjwtJwks = { keys: [pub] };
}

const common = {
  grant_types: ['client_credentials', 'refresh_token', 'password'],
  response_types: [],
  redirect_uris: [],
  scope: `openid offline_access ${RESOURCE_SCOPE}`,
};

// Secrets are test values, published in README.md. client_secret_jwt secrets are 64+ characters,
// long enough for HS512.
const clients = [
  { ...common, client_id: 'basic-client', client_secret: 'basic-secret-7c1f0a9e5d3b4c2a8e6f', token_endpoint_auth_method: 'client_secret_basic' },
  // Only api:read: asking it for api:write gives invalid_scope.
  { ...common, client_id: 'post-client', client_secret: 'post-secret-2b8d4f6a1c3e5a7b9d0f', token_endpoint_auth_method: 'client_secret_post', scope: 'openid offline_access api:read' },
  { ...common, client_id: 'jwt-client', client_secret: 'jwt-secret-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef', token_endpoint_auth_method: 'client_secret_jwt' },
  { ...common, client_id: 'pkjwt-client', token_endpoint_auth_method: 'private_key_jwt', jwks: pkjwtJwks },
  // id and secret with ':', '%', '+', space, '/', '~': exercise RFC 6749 §2.3.1 / Appendix B
  // encoding. oidc-provider accepts only VSCHAR (printable ASCII, RFC 6749 Appendix A.1/A.2) in
  // ids and secrets, so non-ASCII ones cannot be registered here.
  { ...common, client_id: 'special:client %id+1 /x', client_secret: 'se:cr%et +plus/~ 42=&', token_endpoint_auth_method: 'client_secret_basic' },
  { ...common, client_id: 'special-post:client %id+1', client_secret: 'se:cr%et +plus/~ 42=&', token_endpoint_auth_method: 'client_secret_post' },
  // A client for introspection and revocation by a resource server (the guard).
  { client_id: 'resource-server', client_secret: 'resource-server-secret-9a8b7c6d5e4f', grant_types: [], response_types: [], redirect_uris: [], token_endpoint_auth_method: 'client_secret_basic' },
];
if (process.env.PEER_CLIENTS_FILE) {
  // Extra clients (a JSON array of client metadata); one with an existing client_id replaces it.
  for (const c of JSON.parse(readFileSync(process.env.PEER_CLIENTS_FILE, 'utf8'))) {
    const i = clients.findIndex((x) => x.client_id === c.client_id);
    if (i >= 0) clients.splice(i, 1, c); else clients.push(c);
  }
}

// Users of the password grant (a custom grant: oidc-provider does not ship one).
const users = { alice: 'alice-password', 'bob@example.com': 'b0b p@ss:wörd' };

// Counters, read at GET /_peer/stats (tests count token requests at the server).
const stats = { token_requests: 0, grants: {}, errors: {} };

const server = http.createServer();
server.listen(PORT, HOST, () => {
  const { port } = server.address();
  const issuer = `http://${HOST}:${port}`;
  const provider = new Provider(issuer, {
    clients,
    jwks: providerKeys,
    cookies: { keys: ['oidc-peer-cookie-key-not-secret'] },
    findAccount: async (ctx, sub) => (Object.hasOwn(users, sub) ? { accountId: sub, claims: async () => ({ sub }) } : undefined),
    scopes: ['openid', 'offline_access', 'api:read', 'api:write'],
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: {
        enabled: true,
        // Any registered client may introspect any token (the guard's resource-server client).
        allowedPolicy: async () => true,
      },
      revocation: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: async () => undefined,
        useGrantedResource: async () => false,
        getResourceServerInfo: async (ctx, resourceIndicator) => {
          if (resourceIndicator !== RESOURCE) throw new errors.InvalidTarget();
          const info = { scope: RESOURCE_SCOPE, audience: RESOURCE, accessTokenTTL: AT_TTL, accessTokenFormat: AT_FORMAT };
          if (AT_FORMAT === 'jwt') info.jwt = { sign: { alg: 'ES256' } };
          return info;
        },
      },
    },
    ttl: {
      AccessToken: AT_TTL,
      ClientCredentials: AT_TTL,
      RefreshToken: RT_TTL,
      Grant: RT_TTL,
    },
    clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'client_secret_jwt', 'private_key_jwt', 'none'],
    enabledJWA: {
      clientAuthSigningAlgValues: ['HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'EdDSA'],
    },
  });
  provider.proxy = false;

  provider.registerGrantType('password', async (ctx) => {
    const { username, password } = ctx.oidc.params;
    if (!username || !password) throw new errors.InvalidRequest('username and password are required');
    if (!Object.hasOwn(users, username) || users[username] !== password) {
      throw new errors.InvalidGrant('invalid resource owner credentials');
    }
    const { client } = ctx.oidc;
    const requested = (ctx.oidc.params.scope || 'openid offline_access').split(' ').filter(Boolean);
    const allowed = new Set(client.scope.split(' '));
    const missing = requested.filter((s) => !allowed.has(s));
    if (missing.length) throw new errors.InvalidScope('requested scope is not allowed', missing.join(' '));
    const grant = new provider.Grant({ accountId: username, clientId: client.clientId });
    grant.addOIDCScope(requested.join(' '));
    const grantId = await grant.save();
    const scope = requested.join(' ');
    const at = new provider.AccessToken({ accountId: username, client, grantId, gty: 'password', scope });
    const accessToken = await at.save();
    const rt = new provider.RefreshToken({ accountId: username, client, grantId, gty: 'password', scope });
    const refreshToken = await rt.save();
    ctx.body = { access_token: accessToken, token_type: 'Bearer', expires_in: at.expiration, refresh_token: refreshToken, scope };
  }, ['username', 'password', 'scope']);

  provider.on('grant.success', (ctx) => {
    const g = ctx.oidc.params.grant_type;
    stats.grants[g] = (stats.grants[g] || 0) + 1;
  });
  provider.on('grant.error', (ctx, err) => {
    const e = err?.error || 'unknown';
    stats.errors[e] = (stats.errors[e] || 0) + 1;
  });
  provider.on('server_error', (ctx, err) => console.error('server_error:', err));

  const callback = provider.callback();
  server.on('request', (req, res) => {
    if (req.url === '/_peer/stats') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(stats));
      return;
    }
    if (req.method === 'POST' && req.url.startsWith('/token')) stats.token_requests += 1;
    callback(req, res);
  });

  const ready = {
    event: 'ready',
    port,
    issuer,
    token_endpoint: `${issuer}/token`,
    introspection_endpoint: `${issuer}/token/introspection`,
    jwks_uri: `${issuer}/jwks`,
    resource: RESOURCE,
    pkjwt_private_jwk: pkjwtPrivate,
    oidc_provider: JSON.parse(readFileSync(new URL('./node_modules/oidc-provider/package.json', import.meta.url), 'utf8')).version,
    node: process.version,
  };
  process.stdout.write(`${JSON.stringify(ready)}\n`);
});

const stop = () => server.close(() => process.exit(0)) && setTimeout(() => process.exit(0), 500).unref();
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
if (process.env.PEER_EXIT_ON_STDIN_CLOSE !== '0') {
  process.stdin.on('end', stop);
  process.stdin.on('close', stop);
  process.stdin.resume();
}
