import { Command, Option } from 'commander';
import { envName, resolveConfig, SETTINGS, type SettingKey } from '../sidecar/config.js';
import { startSidecar } from '../sidecar/start.js';

/**
 * `falco-ml serve`: the sidecar. Every setting is a flag, an environment variable and a config
 * file key (see `SETTINGS`); commander gets no defaults so the merge can tell which were given.
 */
export function serveCommand(): Command {
  const command = new Command('serve')
    .description('run the sidecar: Falco alerts (http_output) and a syscall feed in, enriched alerts out to Falcosidekick or stdout')
    .option('--config <file>', 'YAML config file with any of the settings below as keys (env FALCO_ML_CONFIG)');
  for (const [key, setting] of Object.entries(SETTINGS) as [SettingKey, (typeof SETTINGS)[SettingKey]][]) {
    const shown = 'default' in setting ? `; default ${String(setting.default)}` : '';
    const help = `${setting.description} (env ${envName(key)}${shown})`;
    command.addOption(setting.kind === 'boolean' ? new Option(`--${key}`, help) : new Option(`--${key} <value>`, help));
    // Booleans on by default need a way off on the command line too.
    if (setting.kind === 'boolean' && setting.default === true) command.addOption(new Option(`--no-${key}`, `turn --${key} off`));
  }
  return command.action(async (flags: Record<string, string | boolean | undefined>) => {
    const given: Partial<Record<SettingKey, string | boolean>> & { config?: string } = {};
    for (const key of Object.keys(SETTINGS) as SettingKey[]) {
      const value = flags[camelCase(key)];
      if (value !== undefined) given[key] = value;
    }
    if (typeof flags.config === 'string') given.config = flags.config;
    const sidecar = await startSidecar(await resolveConfig(given));
    await new Promise<void>((resolve) => {
      const stop = (signal: NodeJS.Signals): void => {
        sidecar.logger.info({ signal }, 'shutting down: draining alerts');
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        sidecar.close().then(resolve, (err: unknown) => {
          sidecar.logger.error({ err }, 'shutdown failed');
          resolve();
        });
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
  });
}

function camelCase(key: string): string {
  return key.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
}
