/**
 * The receiving side of syslog-format.ts: splits an octet-counted TCP stream into messages and
 * parses RFC 5424 messages strictly. Vigil itself only sends; tests (and anyone checking what a
 * SIEM gets) use these to read the stream back.
 */

/** Splits an octet-counted stream (RFC 6587 section 3.4.1) into messages, however the bytes arrive. */
export class OctetFrameParser {
  #buffer: Buffer = Buffer.alloc(0);

  /** Feeds bytes; returns the messages completed by them. Throws on a malformed length. */
  push(chunk: Buffer): Buffer[] {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    const out: Buffer[] = [];
    for (;;) {
      const space = this.#buffer.indexOf(0x20);
      if (space === -1) {
        if (this.#buffer.length > 10) throw new Error('octet-counted frame: no length');
        return out;
      }
      const digits = this.#buffer.subarray(0, space).toString('ascii');
      if (!/^[1-9][0-9]{0,9}$/.test(digits)) throw new Error('octet-counted frame: bad length');
      const length = Number(digits);
      if (this.#buffer.length < space + 1 + length) return out;
      out.push(this.#buffer.subarray(space + 1, space + 1 + length));
      this.#buffer = this.#buffer.subarray(space + 1 + length);
    }
  }

  /** Bytes of an incomplete frame still held. */
  get pending(): number {
    return this.#buffer.length;
  }
}

export interface ParsedSyslog {
  readonly pri: number;
  readonly facility: number;
  readonly severity: number;
  readonly version: number;
  readonly timestamp: string;
  readonly hostname: string;
  readonly appName: string;
  readonly procId: string;
  readonly msgId: string;
  /** SD-ID to its parameters (values unescaped). */
  readonly sd: Map<string, Map<string, string>>;
  readonly bom: boolean;
  readonly msg: string;
}

const HEADER = /^<(\d{1,3})>(\d{1,2}) (\S+) ([\x21-\x7e]{1,255}) ([\x21-\x7e]{1,48}) ([\x21-\x7e]{1,128}) ([\x21-\x7e]{1,32}) /;
const TIMESTAMP = /^(-|\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2}))$/;
const SD_NAME = /^[\x21-\x7e]{1,32}$/;

/** Parses one RFC 5424 message; throws an Error naming the part that does not conform. */
export function parseSyslog(message: Buffer | string): ParsedSyslog {
  const text = typeof message === 'string' ? message : message.toString('utf8');
  const m = HEADER.exec(text);
  if (m === null) throw new Error('syslog: bad header');
  const pri = Number(m[1]);
  if (pri > 191 || ((m[1]?.length ?? 0) > 1 && m[1]?.startsWith('0') === true)) throw new Error('syslog: bad PRI');
  const timestamp = m[3] ?? '';
  if (!TIMESTAMP.test(timestamp)) throw new Error('syslog: bad TIMESTAMP');
  let rest = text.slice(m[0].length);
  const sd = new Map<string, Map<string, string>>();
  if (rest.startsWith('-')) {
    rest = rest.slice(1);
  } else {
    while (rest.startsWith('[')) {
      let i = 1;
      const idEnd = rest.slice(i).search(/[ \]]/);
      if (idEnd === -1) throw new Error('syslog: bad SD-ID');
      const id = rest.slice(i, i + idEnd);
      if (!SD_NAME.test(id) || /[="]/.test(id)) throw new Error('syslog: bad SD-ID');
      i += idEnd;
      const params = new Map<string, string>();
      while (rest[i] === ' ') {
        i += 1;
        const eq = rest.indexOf('="', i);
        if (eq === -1) throw new Error('syslog: bad SD-PARAM');
        const name = rest.slice(i, eq);
        if (!SD_NAME.test(name) || /[= \]"]/.test(name)) throw new Error('syslog: bad PARAM-NAME');
        i = eq + 2;
        let value = '';
        for (;;) {
          const c = rest[i];
          if (c === undefined) throw new Error('syslog: unterminated PARAM-VALUE');
          if (c === '\\' && (rest[i + 1] === '"' || rest[i + 1] === '\\' || rest[i + 1] === ']')) {
            value += rest[i + 1];
            i += 2;
          } else if (c === '"') {
            i += 1;
            break;
          } else if (c === ']') {
            throw new Error('syslog: unescaped ] in PARAM-VALUE');
          } else {
            value += c;
            i += 1;
          }
        }
        params.set(name, value);
      }
      if (rest[i] !== ']') throw new Error('syslog: unterminated SD-ELEMENT');
      if (sd.has(id)) throw new Error('syslog: repeated SD-ID');
      sd.set(id, params);
      rest = rest.slice(i + 1);
    }
    if (sd.size === 0) throw new Error('syslog: bad STRUCTURED-DATA');
  }
  let msg = '';
  let bom = false;
  if (rest.length > 0) {
    if (!rest.startsWith(' ')) throw new Error('syslog: no SP before MSG');
    msg = rest.slice(1);
    if (msg.startsWith('\u{FEFF}')) {
      bom = true;
      msg = msg.slice(1);
    }
  }
  return {
    pri,
    facility: pri >> 3,
    severity: pri & 7,
    version: Number(m[2]),
    timestamp,
    hostname: m[4] ?? '',
    appName: m[5] ?? '',
    procId: m[6] ?? '',
    msgId: m[7] ?? '',
    sd,
    bom,
    msg,
  };
}
