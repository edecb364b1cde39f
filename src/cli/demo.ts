import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { SidecarError } from '../errors.js';
import { alignTable } from '../evaluation/report.js';
import { formatFalcoTime } from '../policy/index.js';
import { openFeedSender } from '../sources/feed-sender.js';
import { resolveConfig } from '../sidecar/config.js';
import { startSidecar } from '../sidecar/start.js';
import { DEFAULT_REPLAY_BATCH_LINES, replayFiles } from './replay.js';

const DATA = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../shared/data/wordpress-sysdig-frasao/wordpress');

interface DemoFlags {
  attack: string;
  normal: string;
}

/** Two Falco alerts as Falco's http_output would post them: one per container. */
function falcoAlert(container: string, rule: string, output: string): string {
  const time = formatFalcoTime(Date.now());
  return JSON.stringify({
    hostname: 'demo-node',
    output: `${time.slice(11, 29)}: Notice ${output} (container_id=${container})`,
    output_fields: { 'container.id': container, 'container.name': container, 'proc.name': 'sh', 'proc.pname': 'apache2' },
    priority: 'Notice',
    rule,
    source: 'syscall',
    tags: ['container', 'shell', 'mitre_execution'],
    time,
  });
}

/**
 * `falco-ml demo`: the sidecar's whole job on the built-in model and policies, without Falco.
 * It starts `serve` in-process, feeds it one attack and one normal WordPress recording as two
 * containers, posts the Falco alert a signature rule would raise in each, and prints what
 * Falcosidekick would receive.
 */
export function demoCommand(): Command {
  return new Command('demo')
    .description('run the sidecar on the built-in model and policies with recorded WordPress traffic: no Falco needed')
    .option('--attack <trace>', 'recording fed as the attacked container', path.join(DATA, 'exec/file-manager-10.log'))
    .option('--normal <trace>', 'recording fed as the normal container', path.join(DATA, 'normal/file-manager-10.log'))
    .action(async (flags: DemoFlags) => {
      for (const file of [flags.attack, flags.normal]) {
        if (!existsSync(file)) {
          throw new SidecarError('FML_ERR_TRACE_NOT_FOUND', `${file} does not exist; the demo reads ../shared/data, or pass --attack and --normal with traces of your own`);
        }
      }
      const dir = mkdtempSync(path.join(tmpdir(), 'falco-ml-demo-'));
      const socket = path.join(dir, 'feed.sock');
      const out = new PassThrough();
      const lines: string[] = [];
      let pending = '';
      out.on('data', (chunk: Buffer) => {
        pending += chunk.toString('utf8');
        const parts = pending.split('\n');
        pending = parts.pop() ?? '';
        lines.push(...parts.filter((l) => l.length > 0));
      });
      // The built-in model alone: a learned profile would need an hour of the app's normal traffic first.
      const config = await resolveConfig({ listen: '127.0.0.1:0', 'feed-socket': socket, 'spool-dir': path.join(dir, 'spool'), 'log-level': 'warn', learn: false }, {});
      const sidecar = await startSidecar(config, { stdout: out });
      try {
        process.stdout.write(`falco-ml serve is listening on ${sidecar.url} (model ${config.model}, policies ${config.policies})\n`);
        const sender = await openFeedSender({ kind: 'unix', path: socket });
        for (const [container, file] of [
          ['wordpress-normal', flags.normal],
          ['wordpress-attack', flags.attack],
        ] as const) {
          const { events } = await replayFiles([file], sender, { container, batch: DEFAULT_REPLAY_BATCH_LINES });
          process.stdout.write(`fed ${events} syscalls of ${path.basename(file)} as container ${container}\n`);
        }
        await sender.close();
        // Let the feed socket's last chunk reach the windows before the rules "fire".
        await new Promise((r) => setTimeout(r, 300));
        for (const container of ['wordpress-normal', 'wordpress-attack']) {
          await fetch(`${sidecar.url}/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: falcoAlert(container, 'Run shell untrusted', 'Shell spawned by an untrusted binary') });
        }
        await new Promise((r) => setTimeout(r, 300));
      } finally {
        await sidecar.close();
        rmSync(dir, { recursive: true, force: true });
      }
      const alerts = lines.map((l) => JSON.parse(l) as { rule: string; priority: string; output_fields: Record<string, unknown> });
      const table = [['verdict', 'priority', 'rule', 'container', 'ml.score', 'ml.top_syscalls']];
      for (const a of alerts) {
        const f = a.output_fields;
        table.push([String(f['ml.verdict']), a.priority, a.rule, String(f['container.id']), f['ml.score'] === undefined ? '-' : Number(f['ml.score']).toFixed(3), String(f['ml.top_syscalls'] ?? '-')]);
      }
      process.stdout.write(`\nenriched alerts, as Falcosidekick would receive them (${alerts.length}):\n${alignTable(table)}\n`);
      if (lines.length > 0) process.stdout.write(`\nthe last one, as sent:\n${lines[lines.length - 1]}\n`);
    });
}
