// A real OpenID Connect provider for the single sign-on tests: the certified `oidc-provider`
// package with its own login and consent pages (any password is accepted; the login name is
// the person). Started by the tests themselves, on 127.0.0.1 only.
//
// Environment:
//   OIDC_PORT            port to listen on (0: any free one)
//   OIDC_CLIENT_ID       the one client, Gatehouse
//   OIDC_CLIENT_SECRET   its secret
//   OIDC_REDIRECT_URIS   its callback URLs, comma-separated
//   OIDC_ACCOUNTS        a JSON file {"login": ["group", ...]} read at every sign-in, so a test
//                        can move a person between groups
//
// Prints `listening <issuer>` once it accepts connections; stops on SIGTERM.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import Provider from 'oidc-provider';

const env = (name) => {
  const v = process.env[name];
  if (v === undefined || v === '') throw new Error(`${name} is required`);
  return v;
};

function groupsOf(login) {
  const accounts = JSON.parse(readFileSync(env('OIDC_ACCOUNTS'), 'utf8'));
  return accounts[login] ?? [];
}

const server = createServer();
server.listen(Number(process.env.OIDC_PORT ?? 0), '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...privateKey.export({ format: 'jwk' }), kid: randomBytes(8).toString('hex'), use: 'sig', alg: 'RS256' };
  const provider = new Provider(issuer, {
    clients: [{
      client_id: env('OIDC_CLIENT_ID'),
      client_secret: env('OIDC_CLIENT_SECRET'),
      redirect_uris: env('OIDC_REDIRECT_URIS').split(','),
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    }],
    jwks: { keys: [jwk] },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    pkce: { methods: ['S256'], required: () => true },
    scopes: ['openid', 'profile', 'email', 'groups'],
    claims: {
      profile: ['preferred_username', 'name'],
      email: ['email', 'email_verified'],
      groups: ['groups'],
    },
    // Claims asked for through scopes go to the userinfo endpoint, not the ID token (the
    // specification's default): Gatehouse must read them there.
    conformIdTokenClaims: true,
    features: { devInteractions: { enabled: true } },
    async findAccount(ctx, sub) {
      return {
        accountId: sub,
        async claims() {
          return {
            sub,
            preferred_username: sub,
            name: sub,
            email: `${sub}@example.test`,
            email_verified: true,
            groups: groupsOf(sub),
          };
        },
      };
    },
  });
  server.on('request', provider.callback());
  console.log(`listening ${issuer}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
