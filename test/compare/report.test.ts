import { readFile, stat } from 'node:fs/promises';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { explainArtefacts } from '../../src/compare/artefacts.js';
import { jaccard } from '../../src/compare/effect-size.js';
import { writeCompareReport, type CompareReport } from '../../src/compare/write-report.js';
import { loadDataset } from '../../src/datasets/dataset.js';
import { HAS_SHARED_DATA, STRACE_DATA } from '../helpers/shared-data.js';
import { STRACE_SLICE, straceSlice, sysdigSlice } from './slices.js';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** strace writes one line per call: `name(` opens it; `---`/`+++` lines are signals and exits. */
async function straceCounts(file: string): Promise<{ calls: Map<string, number>; signals: number; lines: number }> {
  const text = await readFile(path.join(STRACE_DATA, file), 'utf8');
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  const calls = new Map<string, number>();
  let signals = 0;
  for (const line of lines) {
    if (line.startsWith('--- SIG')) signals++;
    const m = /^([a-z0-9_]+)\(/.exec(line);
    if (m) calls.set(m[1], (calls.get(m[1]) ?? 0) + 1);
  }
  return { calls, signals, lines: lines.length };
}

const meanOf = (values: number[]): number => values.reduce((s, v) => s + v, 0) / values.length;

describe.skipIf(!HAS_SHARED_DATA)('compare report on slices of both data sets', () => {
  let out: string;
  let report: CompareReport;

  beforeAll(async () => {
    out = await mkdtemp(path.join(tmpdir(), 'fml-compare-'));
    const a = { name: 'sysdig', dataset: await loadDataset(await sysdigSlice()) };
    const b = { name: 'strace', dataset: await loadDataset(await straceSlice()) };
    report = await writeCompareReport(a, b, { out, top: 10, generatedAt: 'test' });
  });

  it('writes the report, the numbers and every chart as SVG and PNG', () => {
    const names = report.files.map((f) => path.basename(f)).sort();
    expect(names).toEqual(
      ['categories', 'shifts', 'strace-syscalls', 'sysdig-syscalls'].flatMap((s) => [`${s}.png`, `${s}.svg`]).concat(['compare.json', 'report.html']).sort(),
    );
  });

  it('SVG files are well-formed documents and PNG files real images', async () => {
    for (const file of report.files.filter((f) => f.endsWith('.svg'))) {
      const svg = await readFile(file, 'utf8');
      expect(svg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="\d+" height="\d+"/);
      expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
      // every element is closed: self-closing, or opened and closed as often
      for (const tag of ['text', 'title', 'rect', 'svg']) {
        const opened = (svg.match(new RegExp(`<${tag}[ >]`, 'g')) ?? []).length;
        const selfClosed = (svg.match(new RegExp(`<${tag}[^>]*/>`, 'g')) ?? []).length;
        const closed = (svg.match(new RegExp(`</${tag}>`, 'g')) ?? []).length;
        expect(opened - selfClosed).toBe(closed);
      }
      expect(svg).not.toMatch(/&(?!(amp|lt|gt|quot|#39);)/);
    }
    for (const file of report.files.filter((f) => f.endsWith('.png'))) {
      const png = await readFile(file);
      expect(png.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
      expect((await stat(file)).size).toBeGreaterThan(10_000);
      // IHDR width: the SVG is rendered at twice its size
      expect(png.readUInt32BE(16)).toBeGreaterThan(1000);
    }
  });

  it('the HTML report is self-contained, with the charts inline', async () => {
    const html = await readFile(path.join(out, 'report.html'), 'utf8');
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect((html.match(/<svg /g) ?? []).length).toBe(4);
    expect(html).not.toMatch(/<script|<link|src="http/);
    expect(html).toContain('Recorder artefacts');
    expect(html).toContain('Jaccard');
  });

  it('strace calls per recording and shares equal counts taken from the files', async () => {
    const strace = report.comparison.recorders[1];
    const exec = await Promise.all(STRACE_SLICE.exec.map(straceCounts));
    const normal = await Promise.all(STRACE_SLICE.normal.map(straceCounts));
    for (const name of ['read', 'clone', 'wait4', 'stat', 'fcntl']) {
      const row = strace.syscalls.find((s) => s.name === name);
      const attackMean = meanOf(exec.map((c) => c.calls.get(name) ?? 0));
      const normalMean = meanOf(normal.map((c) => c.calls.get(name) ?? 0));
      expect(row?.attackMean ?? 0).toBeCloseTo(attackMean, 9);
      expect(row?.normalMean ?? 0).toBeCloseTo(normalMean, 9);
      const total = (c: { calls: Map<string, number> }): number => [...c.calls.values()].reduce((s, v) => s + v, 0);
      expect(row?.attackShare ?? 0).toBeCloseTo(meanOf(exec.map((c) => (c.calls.get(name) ?? 0) / total(c))), 12);
    }
    // categories add up to every call of a recording
    const allCalls = meanOf(normal.map((c) => [...c.calls.values()].reduce((s, v) => s + v, 0)));
    expect(strace.categories.reduce((s, c) => s + c.normalMean, 0)).toBeCloseTo(allCalls, 9);
    // signal lines are recorder-only events, counted apart; one line per call
    expect(strace.artefacts.signals.total).toBe([...exec, ...normal].reduce((s, c) => s + c.signals, 0));
    expect(strace.artefacts.lines).toBe([...exec, ...normal].reduce((s, c) => s + c.lines, 0));
    expect(strace.artefacts.linesPerCall).toBeCloseTo(strace.artefacts.lines / strace.artefacts.calls, 12);
    expect(strace.artefacts.linesPerCall).toBeLessThan(1.02);
  });

  it('sysdig enter/exit lines count once: about two lines per call', () => {
    const sysdig = report.comparison.recorders[0];
    // 444 + 588 + 2,572 + 2,344 lines
    expect(sysdig.artefacts.lines).toBe(5948);
    expect(sysdig.artefacts.linesPerCall).toBeGreaterThan(1.9);
    expect(sysdig.artefacts.linesPerCall).toBeLessThanOrEqual(2);
    expect(explainArtefacts(report.comparison).join('\n')).toMatch(/sysdig .*lines per call\. Enter and exit are separate lines/);
  });

  it('cross-recorder numbers follow from the per-recorder sets', () => {
    const [a, b] = report.comparison.recorders;
    const x = report.comparison.across;
    const merge = (n: string): string => (n === 'accept' ? 'accept4' : n);
    expect(x.jaccardAttack).toBeCloseTo(jaccard(new Set(a.attackIndicative.map(merge)), new Set(b.attackIndicative.map(merge))), 12);
    const aNames = new Set(a.syscalls.map((s) => s.name));
    const bNames = new Set(b.syscalls.map((s) => s.name));
    expect(x.seenOnly[0].map((s) => s.name).sort()).toEqual([...aNames].filter((n) => !bNames.has(n)).sort());
    expect(x.seenOnly[1].map((s) => s.name).sort()).toEqual([...bNames].filter((n) => !aNames.has(n)).sort());
    // sysdig's accept is strace's accept4
    expect(x.seenOnly[0].find((s) => s.name === 'accept')?.mergedWith).toBe('accept4');
  });
});
