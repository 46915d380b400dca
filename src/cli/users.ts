import type { Command } from 'commander';
import { VigilError } from '../errors.js';
import { openVigil } from '../runtime/index.js';
import type { User } from '../auth/index.js';
import { configFrom, dataOption, output } from './common.js';
import { adminEvent, collect, readStdinSecret } from './admin-common.js';

interface AddOptions {
  data?: string;
  username: string;
  role: string[];
  practitioner?: string;
  patient?: string;
  relatedPerson?: string;
  organization?: string[];
  clearance?: string[];
  passwordStdin?: boolean;
  json?: boolean;
}

/** The one `fhirUser` link the options name, if any. */
function linkOf(opts: AddOptions): string | undefined {
  const links = [
    ...(opts.practitioner === undefined ? [] : [`Practitioner/${opts.practitioner}`]),
    ...(opts.patient === undefined ? [] : [`Patient/${opts.patient}`]),
    ...(opts.relatedPerson === undefined ? [] : [`RelatedPerson/${opts.relatedPerson}`]),
  ];
  if (links.length > 1) throw new VigilError('ERR_BAD_REQUEST', 'Give at most one of --practitioner, --patient, --related-person');
  return links[0];
}

function describe(u: User): string {
  const flags = [u.disabled ? 'disabled' : 'active', u.mfa.enrolled ? 'mfa' : 'no-mfa'];
  return `${u.id}  ${u.username}  ${u.roles.join(',')}${u.fhirUser === undefined ? '' : `  ${u.fhirUser}`}  (${flags.join(', ')})`;
}

/** `vigil users add|disable|enable|mfa-reset|list`: user administration on a data directory. */
export function usersCommand(program: Command): void {
  const users = program.command('users').description('manage users (roles, passwords, MFA)');

  dataOption(users.command('add').description('add a user; the password is read from standard input'))
    .requiredOption('--username <name>', 'user name (a-z 0-9 . _ @ -)')
    .requiredOption('--role <role>', 'a role (repeat for several): clinician, nurse, front-desk, billing, researcher, privacy-officer, security-admin, patient', collect)
    .option('--practitioner <id>', 'link to Practitioner/<id> (clinician, nurse)')
    .option('--patient <id>', 'link to Patient/<id> (patient)')
    .option('--related-person <id>', 'link to RelatedPerson/<id> (patient)')
    .option('--organization <id>', 'an Organization id the user works for (repeatable)', collect)
    .option('--clearance <code>', 'a security-label code the user may see, e.g. R, V, PSY (repeatable)', collect)
    .option('--password-stdin', 'read the password from standard input (required: never on the command line)')
    .option('--json', 'print JSON')
    .action(async (opts: AddOptions) => {
      if (opts.passwordStdin !== true) throw new VigilError('ERR_BAD_REQUEST', 'Pass the password on standard input with --password-stdin');
      const password = await readStdinSecret('password');
      const fhirUser = linkOf(opts);
      const vigil = await openVigil(configFrom(opts));
      try {
        const user = await vigil.users.add({
          username: opts.username,
          roles: opts.role,
          password,
          ...(fhirUser === undefined ? {} : { fhirUser }),
          ...(opts.organization === undefined ? {} : { organizations: opts.organization }),
          ...(opts.clearance === undefined ? {} : { clearances: opts.clearance }),
        });
        await adminEvent(vigil, 'user-add', [`user/${user.id}`]);
        const mfa = vigil.users.mfaRequired(user) ? '; MFA enrolment is required at first sign-in' : '';
        output(opts.json === true, user, `added ${describe(user)}${mfa}`);
      } finally {
        await vigil.close();
      }
    });

  const change = (name: 'disable' | 'enable' | 'mfa-reset', description: string): void => {
    dataOption(users.command(`${name} <username>`).description(description))
      .option('--json', 'print JSON')
      .action(async (username: string, opts: { data?: string; json?: boolean }) => {
        const vigil = await openVigil(configFrom(opts));
        try {
          const user = name === 'disable' ? await vigil.users.disable(username) : name === 'enable' ? await vigil.users.enable(username) : await vigil.users.mfaReset(username);
          // A disabled account or a reset factor ends every sign-in session (and their refresh tokens) now.
          if (name !== 'enable') await vigil.sessions.endAllForUser(user.id);
          await adminEvent(vigil, name === 'mfa-reset' ? 'mfa-reset' : `user-${name}`, [`user/${user.id}`]);
          output(opts.json === true, user, `${name === 'mfa-reset' ? 'MFA reset for' : `${name}d`} ${describe(user)}`);
        } finally {
          await vigil.close();
        }
      });
  };
  change('disable', 'disable a user (their tokens stop working at once)');
  change('enable', 'enable a disabled user');
  change('mfa-reset', "clear a user's TOTP enrolment; their next sign-in enrols again");

  dataOption(users.command('list').description('list users (never passwords or secrets)'))
    .option('--json', 'print JSON')
    .action(async (opts: { data?: string; json?: boolean }) => {
      const vigil = await openVigil(configFrom(opts));
      try {
        const list = await vigil.users.list();
        await adminEvent(vigil, 'user-list', []);
        output(opts.json === true, list, list.length === 0 ? 'no users' : list.map(describe).join('\n'));
      } finally {
        await vigil.close();
      }
    });
}
