import { Command, CommanderError } from 'commander';
import { isVigilError } from '../errors.js';
import { VERSION } from '../version.js';
import { serveCommand } from './serve.js';
import { keysCommand } from './keys.js';
import { verifyCommand } from './verify.js';
import { logCommand } from './log.js';
import { generateCommand } from './generate.js';
import { importCommand } from './import.js';
import { auditExportCommand } from './audit-export.js';
import { usersCommand } from './users.js';
import { clientsCommand } from './clients.js';
import { scanCommand } from './scan.js';
import { honeytokensCommand } from './honeytokens.js';
import { simulateCommand } from './simulate.js';
import { backupCommand } from './backup.js';
import { restoreCommand } from './restore.js';
import { drillCommand } from './drill.js';
import { keysExportCommands } from './keys-export.js';

const program = new Command('vigil')
  .description('Vigil: a FHIR R4 server with security built into every layer')
  .version(VERSION)
  .showHelpAfterError()
  .exitOverride();

serveCommand(program);
keysCommand(program);
keysExportCommands(program);
verifyCommand(program);
logCommand(program);
generateCommand(program);
importCommand(program);
auditExportCommand(program);
usersCommand(program);
clientsCommand(program);
scanCommand(program);
honeytokensCommand(program);
simulateCommand(program);
backupCommand(program);
restoreCommand(program);
drillCommand(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) process.exit(err.exitCode);
  // Known errors print their message (written to hold no health data); anything else only its kind.
  if (isVigilError(err)) console.error(`vigil: ${err.message}`);
  else console.error(`vigil: unexpected ${(err as Error)?.name ?? 'error'}; see the server log`);
  process.exit(isVigilError(err) && err.code === 'ERR_CONFIG' ? 2 : 1);
}
