import type { Command } from 'commander';
import { VigilError } from '../errors.js';
import { openVigil } from '../runtime/index.js';
import { GRANT_TYPES, type ClientSummary, type GrantType } from '../auth/index.js';
import { configFrom, dataOption, output } from './common.js';
import { adminEvent, collect } from './admin-common.js';

interface AddOptions {
  data?: string;
  name: string;
  grant: string[];
  scope: string;
  role?: string[];
  redirectUri?: string[];
  public?: boolean;
  jwksUrl?: string;
  json?: boolean;
}

function describe(c: ClientSummary): string {
  const state = [c.disabled ? 'disabled' : 'active', ...(c.intact ? [] : ['TAMPERED'])].join(', ');
  return `${c.clientId}  ${c.name}  ${c.grants.join(',')}  ${c.authMethod}  "${c.scopes}"  (${state})`;
}

/** `vigil clients add|list|disable|enable`: OAuth client registration on a data directory. */
export function clientsCommand(program: Command): void {
  const clients = program.command('clients').description('manage OAuth clients');

  dataOption(clients.command('add').description('register a client; prints its id and, once, its secret'))
    .requiredOption('--name <name>', 'a name for people')
    .requiredOption('--grant <grant>', `grant type (repeatable): ${GRANT_TYPES.join(', ')}`, collect)
    .requiredOption('--scope <scopes>', 'space-separated SMART scopes the client may be granted')
    .option('--role <role>', 'a role the client acts with (repeatable)', collect)
    .option('--redirect-uri <uri>', 'a redirect URI for authorization_code (repeatable; https, or http on loopback)', collect)
    .option('--public', 'a public app (no secret; PKCE only)')
    .option('--jwks-url <url>', "the client's JWKS URL for private_key_jwt (no secret)")
    .option('--json', 'print JSON')
    .action(async (opts: AddOptions) => {
      if (!opts.grant.every((g) => (GRANT_TYPES as readonly string[]).includes(g))) throw new VigilError('ERR_BAD_REQUEST', `Unknown grant type; use ${GRANT_TYPES.join(', ')}`);
      const vigil = await openVigil(configFrom(opts));
      try {
        const made = await vigil.clients.create({
          name: opts.name,
          scopes: opts.scope,
          roles: opts.role ?? [],
          grants: opts.grant as GrantType[],
          redirectUris: opts.redirectUri ?? [],
          public: opts.public === true,
          ...(opts.jwksUrl === undefined ? {} : { jwksUrl: opts.jwksUrl }),
        });
        await adminEvent(vigil, 'client-add', [`client/${made.clientId}`]);
        const human = made.clientSecret === undefined
          ? `client_id ${made.clientId} (no secret: ${opts.public === true ? 'public client, PKCE' : 'private_key_jwt'})`
          : `client_id ${made.clientId}\nclient_secret ${made.clientSecret}\n(the secret is shown this once; store it now)`;
        output(opts.json === true, made, human);
      } finally {
        await vigil.close();
      }
    });

  dataOption(clients.command('list').description('list clients (never secrets)'))
    .option('--json', 'print JSON')
    .action(async (opts: { data?: string; json?: boolean }) => {
      const vigil = await openVigil(configFrom(opts));
      try {
        const list = await vigil.clients.list();
        await adminEvent(vigil, 'client-list', []);
        output(opts.json === true, list, list.length === 0 ? 'no clients' : list.map(describe).join('\n'));
      } finally {
        await vigil.close();
      }
    });

  for (const action of ['disable', 'enable'] as const) {
    dataOption(clients.command(`${action} <clientId>`).description(`${action} a client`))
      .option('--json', 'print JSON')
      .action(async (clientId: string, opts: { data?: string; json?: boolean }) => {
        const vigil = await openVigil(configFrom(opts));
        try {
          await (action === 'disable' ? vigil.clients.disable(clientId) : vigil.clients.enable(clientId));
          await adminEvent(vigil, `client-${action}`, [`client/${clientId}`]);
          output(opts.json === true, { clientId, disabled: action === 'disable' }, `${action}d client ${clientId}`);
        } finally {
          await vigil.close();
        }
      });
  }
}
