import type { FalcoAlert, FalcoPriority } from '../falco/alert.js';
import type { ContainerContext } from './types.js';
import { parseDurationMs, parseRateLimit } from './duration.js';
import { compileGlobs, type Matcher } from './glob.js';
import {
  DEFAULT_ANOMALY_PRIORITY,
  DEFAULT_ANOMALY_RATE_LIMIT,
  type AlertAction,
  type AnomalyAction,
  type Policy,
  type PriorityChange,
  type ScoreCondition,
  type Selector,
} from './policy.js';
import { isAtLeast, parsePriority } from './priority.js';
import type { AlertActionInput, AnomalyActionInput, PolicyInput, PriorityRangeInput, ScoreInput, SelectorInput, StringOrList } from './schema.js';

/**
 * Turns a policy that passed validation into the engine's form: globs compiled once, durations
 * in ms, priorities in Falco's spelling. Disabled policies are dropped here.
 */
export function compilePolicies(policies: readonly PolicyInput[], file: string, lineOf: (path: (string | number)[]) => number): Policy[] {
  const out: Policy[] = [];
  policies.forEach((input, i) => {
    if (input.enabled === false) return;
    out.push({
      name: input.name,
      ...(input.description === undefined ? {} : { description: input.description }),
      file,
      line: lineOf(['policies', i, 'name']),
      ...(input.when === undefined ? {} : { when: compileSelector(input.when) }),
      ...(input.unless === undefined ? {} : { unless: compileSelector(input.unless) }),
      ...(input.score === undefined ? {} : { score: compileScore(input.score) }),
      ...(input.signature === undefined ? {} : { signature: compileAlertAction(input.signature) }),
      ...(input.confirmed === undefined ? {} : { confirmed: compileAlertAction(input.confirmed) }),
      ...(input.anomaly === undefined ? {} : { anomaly: compileAnomalyAction(input.anomaly) }),
    });
  });
  return out;
}

type Test = (alert: FalcoAlert | undefined, ctx: ContainerContext | undefined) => boolean;

const list = (value: StringOrList): string[] => (Array.isArray(value) ? value : [value]);

/** A field's value: the alert's output_fields first (Falco saw it), then the container's. */
function fieldValue(field: string, alert: FalcoAlert | undefined, ctx: ContainerContext | undefined): string | undefined {
  const fromAlert = alert?.output_fields[field];
  if (fromAlert !== undefined && fromAlert !== null) return String(fromAlert);
  if (ctx === undefined) return undefined;
  if (field === 'container.id') return ctx.containerId;
  return ctx.fields[field];
}

function fieldTest(field: string, matches: Matcher): Test {
  return (alert, ctx) => {
    const value = fieldValue(field, alert, ctx);
    return value !== undefined && matches(value);
  };
}

/** `wordpress` matches `wordpress`, `docker.io/library/wordpress` and `ghcr.io/x/wordpress`. */
function imageMatcher(patterns: readonly string[]): Matcher {
  const whole = compileGlobs(patterns);
  return (repo) => whole(repo) || whole(repo.slice(repo.lastIndexOf('/') + 1));
}

function compileSelector(input: SelectorInput): Selector {
  const tests: Test[] = [];
  if (input.rule !== undefined) {
    const m = compileGlobs(list(input.rule));
    tests.push((alert) => alert !== undefined && m(alert.rule));
  }
  if (input.tags !== undefined) {
    const wanted = list(input.tags);
    tests.push((alert) => alert !== undefined && wanted.every((t) => alert.tags.includes(t)));
  }
  if (input.priority !== undefined) {
    const p = input.priority;
    if (typeof p === 'string') {
      const exact = priorityOf(p);
      tests.push((alert) => alert !== undefined && alert.priority === exact);
    } else {
      const { atLeast, atMost } = compileRange(p);
      tests.push(
        (alert) =>
          alert !== undefined &&
          (atLeast === undefined || isAtLeast(alert.priority, atLeast)) &&
          (atMost === undefined || isAtLeast(atMost, alert.priority)),
      );
    }
  }
  if (input.source !== undefined) {
    const m = compileGlobs(list(input.source));
    tests.push((alert) => alert !== undefined && m(alert.source));
  }
  for (const [field, patterns] of Object.entries(input.fields ?? {})) tests.push(fieldTest(field, compileGlobs(list(patterns))));
  if (input.image !== undefined) tests.push(fieldTest('container.image.repository', imageMatcher(list(input.image))));
  if (input.namespace !== undefined) tests.push(fieldTest('k8s.ns.name', compileGlobs(list(input.namespace))));
  if (input.container !== undefined) tests.push(fieldTest('container.name', compileGlobs(list(input.container))));
  if (input.state !== undefined) {
    const states = list(input.state);
    // A container whose state the sidecar does not know matches neither state.
    tests.push((_alert, ctx) => ctx?.state !== undefined && states.includes(ctx.state));
  }
  const alertOnly = input.rule !== undefined || input.tags !== undefined || input.priority !== undefined || input.source !== undefined;
  return { alertOnly, test: (alert, ctx) => tests.every((t) => t(alert, ctx)) };
}

function priorityOf(name: string): FalcoPriority {
  const p = parsePriority(name);
  if (p === undefined) throw new RangeError(`not a priority: ${name}`); // the schema refused it already
  return p;
}

function compileRange(range: PriorityRangeInput): { atLeast?: FalcoPriority; atMost?: FalcoPriority } {
  return {
    ...(range.at_least === undefined ? {} : { atLeast: priorityOf(range.at_least) }),
    ...(range.at_most === undefined ? {} : { atMost: priorityOf(range.at_most) }),
  };
}

function compileScore(input: ScoreInput): ScoreCondition {
  const atLeast = input.at_least === undefined ? {} : { atLeast: input.at_least };
  if (input.max_over !== undefined) return { kind: 'max_over', spanMs: parseDurationMs(input.max_over), ...atLeast };
  if (input.count_over !== undefined) {
    return { kind: 'count_over', spanMs: parseDurationMs(input.count_over), minCount: input.min_count ?? 1, ...atLeast };
  }
  return { kind: 'latest', ...atLeast };
}

function compilePriorityChange(input: NonNullable<AlertActionInput['priority']>): PriorityChange {
  if (typeof input === 'number') return { steps: input };
  if (typeof input === 'string') return { set: priorityOf(input) };
  return compileRange(input);
}

function compileAlertAction(input: AlertActionInput): AlertAction {
  return {
    ...(input.priority === undefined ? {} : { priority: compilePriorityChange(input.priority) }),
    addTags: input.add_tags ?? [],
    suppress: input.suppress ?? false,
  };
}

function compileAnomalyAction(input: AnomalyActionInput): AnomalyAction {
  return {
    ...(input.rule === undefined ? {} : { rule: input.rule }),
    priority: input.priority === undefined ? DEFAULT_ANOMALY_PRIORITY : priorityOf(input.priority),
    addTags: input.add_tags ?? [],
    rateLimit: input.rate_limit === undefined ? DEFAULT_ANOMALY_RATE_LIMIT : parseRateLimit(input.rate_limit),
    suppress: input.suppress ?? false,
  };
}
