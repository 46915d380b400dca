import { Option, type Command } from 'commander';
import { loadConfig, type Config, type ConfigOverrides } from '../config/index.js';

/** `--data DIR`, which every command takes (default VIGIL_DATA_DIR, then ./vigil-data). */
export function dataOption(command: Command): Command {
  return command.addOption(new Option('--data <dir>', 'data directory (default: VIGIL_DATA_DIR, then ./vigil-data)'));
}

export function configFrom(opts: { data?: string }, extra: ConfigOverrides = {}): Config {
  return loadConfig(process.env, { ...extra, ...(opts.data === undefined ? {} : { dataDir: opts.data }) });
}

/** Prints a result: JSON for machines with --json, else the human text. */
export function output(json: boolean, value: unknown, human: string): void {
  process.stdout.write(json ? `${JSON.stringify(value)}\n` : `${human}\n`);
}
