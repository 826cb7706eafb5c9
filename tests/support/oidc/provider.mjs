// A real, independent OpenID provider for the SSO tests: the certified `oidc-provider` package with its
// built-in login and consent pages (any password is accepted for a login listed in OIDC_ACCOUNTS).
// Started by tests/support/oidc_provider.py; everything comes from the environment:
//   OIDC_ISSUER    http://127.0.0.1:<port>
//   OIDC_PORT      the port to listen on (127.0.0.1 only)
//   OIDC_CLIENTS   JSON list of client metadata (client_id, client_secret, redirect_uris, ...)
//   OIDC_ACCOUNTS  JSON object: login -> claims (email, email_verified, name); the login is the subject
//   OIDC_JWKS      JSON {"keys": [...]} private signing keys; the first one signs (rotation = new key first)
import Provider from 'oidc-provider';

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};

const accounts = JSON.parse(env('OIDC_ACCOUNTS'));

const provider = new Provider(env('OIDC_ISSUER'), {
  clients: JSON.parse(env('OIDC_CLIENTS')),
  jwks: JSON.parse(env('OIDC_JWKS')),
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  cookies: { keys: ['meetmesh-test-provider-cookie-key'] },
  features: { devInteractions: { enabled: true } },
  pkce: { required: () => true },
  async findAccount(ctx, sub) {
    const claims = accounts[sub];
    if (!claims) return undefined;
    return { accountId: sub, async claims() { return { sub, ...claims }; } };
  },
});
// Tests watch this provider's own error events on stderr (a refused code, a PKCE mismatch).
provider.on('grant.error', (ctx, err) => console.error(`grant.error ${err.message}: ${err.error_description ?? ''}`));
provider.on('server_error', (ctx, err) => console.error(`server_error ${err.stack}`));

const server = provider.listen(Number(env('OIDC_PORT')), '127.0.0.1', () => {
  console.log(`oidc-provider listening on ${env('OIDC_ISSUER')}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
