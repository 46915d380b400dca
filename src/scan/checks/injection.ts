import { randomBytes } from 'node:crypto';
import { finding, fhirUrl, type Check, type ScanContext } from '../context.js';
import { evidenceOf } from '../evidence.js';
import { header } from '../http-client.js';
import { MAP } from '../mappings.js';

/** Values with SQL meta-characters: each is a plain search string, and none can change data. */
const SQL_PROBES = ["'", '"', "' OR '1'='1", "1'--", '\\'];
const PARAMS = ['name', 'family'];

/** Error text of common databases and drivers. */
const SQL_ERRORS: readonly RegExp[] = [
  /SQL syntax.*MySQL|mysql_fetch|MariaDB server version/i,
  /SQLITE_ERROR|sqlite3?\.OperationalError|near ".*": syntax error|unrecognized token:/i,
  /syntax error at or near|unterminated quoted string|PG::SyntaxError|org\.postgresql/i,
  /ORA-\d{5}|Unclosed quotation mark|Incorrect syntax near|SQLSTATE\[/i,
  /SQLException|JDBC|ODBC .*Driver/i,
];

async function sqlErrors(ctx: ScanContext, token: { token?: string }): Promise<void> {
  for (const param of PARAMS) {
    for (const value of SQL_PROBES) {
      const e = await ctx.client.request('GET', fhirUrl(ctx, `Patient?${param}=${encodeURIComponent(value)}`), token);
      if (!SQL_ERRORS.some((p) => p.test(e.body))) continue;
      ctx.add(finding('sql-error', 'high', 'injection', 'A search value with SQL meta-characters produces a database error', evidenceOf(e, { bodyMax: 400 }),
        'Pass every search value to the database as a bound parameter, never as SQL text; answer bad input with a generic 400 OperationOutcome and no database message.', MAP.injection));
      return;
    }
  }
}

/** A marker with markup in it: found raw in an HTML response, the server echoes input unescaped. */
async function reflection(ctx: ScanContext, token: { token?: string }): Promise<void> {
  const marker = `<b>vsp${randomBytes(4).toString('hex')}</b>`;
  for (const path of [`Patient?name=${encodeURIComponent(marker)}`, `Patient/${encodeURIComponent(marker)}`]) {
    const e = await ctx.client.request('GET', fhirUrl(ctx, path), token);
    const html = /html/i.test(header(e, 'content-type') ?? '');
    if (!e.body.includes(marker) || !html) continue;
    ctx.add(finding('reflected-input', 'medium', 'injection', 'Input is reflected unescaped into an HTML response', evidenceOf(e, { bodyMax: 300 }),
      'Escape every value put into HTML (or answer with JSON only), and never echo search values back: they can be health data, and echoed markup runs as script.', MAP.injection));
    return;
  }
}

/** Injection probes that change nothing: SQL error text and reflected markup, via GET searches only. */
export const injectionCheck: Check = {
  name: 'injection',
  async run(ctx) {
    const a = ctx.identities[0];
    const token = a === undefined ? {} : { token: a.token };
    await sqlErrors(ctx, token);
    await reflection(ctx, token);
  },
};
