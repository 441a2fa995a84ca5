/**
 * Loading the configuration from a file. The schema, defaults and merging
 * live in config-schema.ts (pure, shared with workflows); this adds the file.
 */
import { readFileSync } from 'node:fs';
import { ConfigError, parseConfig, type Config } from './config-schema.ts';

export * from './config-schema.ts';

/** Reads a JSON config file (partial, merged over the defaults). */
export function loadConfigFile(path: string): Config {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(path, [`cannot read the file: ${(err as Error).message}`]);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(path, [`not valid JSON: ${(err as Error).message}`]);
  }
  return parseConfig(json, path);
}
