#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { isSidecarError } from '../errors.js';
import { compareCommand } from './compare.js';
import { demoCommand } from './demo.js';
import { evaluateCommand } from './evaluate.js';
import { profilesCommand } from './profiles.js';
import { replayCommand } from './replay.js';
import { scoreCommand } from './score.js';
import { serveCommand } from './serve.js';
import { trainCommand } from './train.js';

/**
 * The one place that turns errors into output: a known error prints its code, message and
 * hint without a stack (exit 2 for usage, 1 at run time); anything else prints its stack.
 */
export async function main(argv: readonly string[]): Promise<number> {
  const verbose = argv.includes('--verbose');
  const program = new Command('falco-ml')
    .description('ML scoring of container syscall windows for Falco: serve the sidecar; train, evaluate and score models; replay traces; compare recorders')
    .option('--verbose', 'print stacks for errors')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  for (const command of [serveCommand(), demoCommand(), trainCommand(), evaluateCommand(), scoreCommand(), replayCommand(), compareCommand(), profilesCommand()]) {
    program.addCommand(command.exitOverride());
  }
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end here too, with exit code 0.
      return err.exitCode === 0 ? 0 : 2;
    }
    if (isSidecarError(err)) {
      process.stderr.write(`error ${err.code}: ${err.message}\n  ${err.hint}\n`);
      if (verbose && err.stack !== undefined) process.stderr.write(`${err.stack}\n`);
      return err.exitCode;
    }
    process.stderr.write(`unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`${String(err)}\n`);
    process.exitCode = 1;
  },
);
