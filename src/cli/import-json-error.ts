/** Where a JSON text stops being valid, by line and column, and why, in words that quote nothing. */
export interface JsonErrorPlace {
  readonly line: number;
  readonly column: number;
  readonly reason: string;
}

class Stop {
  constructor(
    readonly at: number,
    readonly reason: string,
  ) {}
}

/** Nesting deeper than this is reported at the point it is reached (and keeps the scan off the stack limit). */
const MAX_DEPTH = 1000;

function scan(text: string): void {
  let i = 0;
  const ws = (): void => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
  };
  const end = (): Stop => new Stop(i, 'unexpected end of input');
  const string = (): void => {
    i++;
    for (;;) {
      if (i >= text.length) throw new Stop(i, 'unterminated string');
      const c = text.charCodeAt(i);
      if (c === 0x22) break;
      if (c < 0x20) throw new Stop(i, 'control character in a string');
      if (c === 0x5c) {
        const e = text[i + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) throw new Stop(i, 'bad \\u escape');
          i += 6;
          continue;
        }
        if (e === undefined || !'"\\/bfnrt'.includes(e)) throw new Stop(i, 'bad escape in a string');
        i += 2;
        continue;
      }
      i++;
    }
    i++;
  };
  const value = (depth: number): void => {
    ws();
    if (i >= text.length) throw end();
    if (depth > MAX_DEPTH) throw new Stop(i, 'nesting too deep');
    const c = text[i];
    if (c === '"') return string();
    if (c === '{' || c === '[') {
      const close = c === '{' ? '}' : ']';
      i++;
      ws();
      if (text[i] === close) {
        i++;
        return undefined;
      }
      for (;;) {
        if (c === '{') {
          ws();
          if (i >= text.length) throw end();
          if (text[i] !== '"') throw new Stop(i, 'expected a property name');
          string();
          ws();
          if (i >= text.length) throw end();
          if (text[i] !== ':') throw new Stop(i, "expected ':' after a property name");
          i++;
        }
        value(depth + 1);
        ws();
        if (i >= text.length) throw end();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === close) {
          i++;
          return undefined;
        }
        throw new Stop(i, `expected ',' or '${close}'`);
      }
    }
    const number = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/.exec(text.slice(i, i + 400));
    if (number !== null) {
      i += number[0].length;
      return undefined;
    }
    for (const word of ['true', 'false', 'null']) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return undefined;
      }
    }
    throw new Stop(i, 'unexpected character');
  };
  value(0);
  ws();
  if (i < text.length) throw new Stop(i, 'unexpected text after the JSON value');
}

/**
 * Finds the first error in a JSON text that `JSON.parse` refused. The engine's own message is not
 * used: it quotes the text around the error, and that text may be health data.
 * Returns undefined when the scan finds no error.
 */
export function locateJsonError(text: string): JsonErrorPlace | undefined {
  try {
    scan(text);
    return undefined;
  } catch (err) {
    if (!(err instanceof Stop)) return undefined;
    let line = 1;
    let lineStart = 0;
    for (let k = text.indexOf('\n'); k !== -1 && k < err.at; k = text.indexOf('\n', k + 1)) {
      line++;
      lineStart = k + 1;
    }
    return { line, column: err.at - lineStart + 1, reason: err.reason };
  }
}
