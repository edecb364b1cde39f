import { DURATION_PATTERN, RATE_LIMIT_PATTERN } from './duration.js';
import { PRIORITY_SPELLINGS } from './priority.js';

/**
 * The policy file format as a JSON schema (validated with ajv), plus the TypeScript shapes of
 * a file that passed it. `expected` is our own annotation keyword: the phrase an error message
 * uses when a value is refused ("expected a duration like 60s"). docs/policies.md describes
 * every key; change both together.
 */

export type StringOrList = string | string[];
export type PriorityRangeInput = { at_least?: string; at_most?: string };

export interface SelectorInput {
  rule?: StringOrList;
  tags?: StringOrList;
  priority?: string | PriorityRangeInput;
  source?: StringOrList;
  fields?: Record<string, StringOrList>;
  image?: StringOrList;
  namespace?: StringOrList;
  container?: StringOrList;
  state?: StringOrList;
}

export interface ScoreInput {
  latest?: true;
  max_over?: string;
  count_over?: string;
  at_least?: number;
  min_count?: number;
}

export interface AlertActionInput {
  priority?: string | number | PriorityRangeInput;
  add_tags?: string[];
  suppress?: boolean;
}

export interface AnomalyActionInput {
  rule?: string;
  priority?: string;
  add_tags?: string[];
  rate_limit?: string;
  suppress?: boolean;
}

export interface PolicyInput {
  name: string;
  description?: string;
  enabled?: boolean;
  when?: SelectorInput;
  unless?: SelectorInput;
  score?: ScoreInput;
  signature?: AlertActionInput;
  confirmed?: AlertActionInput;
  anomaly?: AnomalyActionInput;
}

export interface PolicyFileInput {
  order?: number;
  policies: PolicyInput[];
}

type Schema = Record<string, unknown>;

const nonEmptyString: Schema = { type: 'string', minLength: 1, expected: 'a non-empty string' };
const stringOrList: Schema = {
  if: { type: 'array' },
  then: { type: 'array', minItems: 1, items: nonEmptyString, expected: 'a non-empty list of strings' },
  else: { ...nonEmptyString, expected: 'a string or a list of strings' },
};
const priorityName: Schema = { type: 'string', enum: PRIORITY_SPELLINGS, expected: 'a Falco priority (Emergency ... Debug)' };
const priorityRange: Schema = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: { at_least: priorityName, at_most: priorityName },
  expected: 'at_least and/or at_most',
};
const tag: Schema = { type: 'string', pattern: '^[A-Za-z0-9_.:/-]+$', expected: 'a tag of letters, digits and _.:/-' };
const tagList: Schema = { type: 'array', items: tag, expected: 'a list of tags' };
const duration: Schema = { type: 'string', pattern: DURATION_PATTERN, expected: 'a duration like 60s' };
const asciiName: Schema = {
  type: 'string',
  pattern: '^[\\x21-\\x7E][\\x20-\\x7E]*$',
  expected: 'printable ASCII text, not starting with a space',
};

const selector: Schema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    rule: stringOrList,
    tags: stringOrList,
    priority: { if: { type: 'object' }, then: priorityRange, else: priorityName },
    source: stringOrList,
    fields: { type: 'object', additionalProperties: stringOrList, expected: 'a map of field name to pattern(s)' },
    image: stringOrList,
    namespace: stringOrList,
    container: stringOrList,
    state: {
      if: { type: 'array' },
      then: { type: 'array', minItems: 1, items: { enum: ['learning', 'detecting'], expected: 'learning or detecting' } },
      else: { enum: ['learning', 'detecting'], expected: 'learning or detecting' },
    },
  },
};

const score: Schema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    latest: { const: true, expected: 'true' },
    max_over: duration,
    count_over: duration,
    at_least: { type: 'number', expected: 'a number (a score threshold)' },
    min_count: { type: 'integer', minimum: 1, expected: 'a whole number of windows, at least 1' },
  },
};

const alertAction: Schema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    priority: {
      if: { type: 'object' },
      then: priorityRange,
      else: {
        if: { type: 'integer' },
        then: { type: 'integer', minimum: -7, maximum: 7, not: { const: 0 }, expected: 'a step from -7 to +7, not 0' },
        else: { ...priorityName, expected: 'a Falco priority, a step like +1 or -1, or {at_least|at_most: priority}' },
      },
    },
    add_tags: tagList,
    suppress: { type: 'boolean', expected: 'true or false' },
  },
};

const anomalyAction: Schema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    rule: asciiName,
    priority: priorityName,
    add_tags: tagList,
    rate_limit: { type: 'string', pattern: RATE_LIMIT_PATTERN, expected: 'a rate like 1 per 5m' },
    suppress: { type: 'boolean', expected: 'true or false' },
  },
};

export const POLICY_FILE_SCHEMA: Schema = {
  type: 'object',
  additionalProperties: false,
  required: ['policies'],
  expected: 'a mapping with a policies list',
  properties: {
    order: { type: 'integer', expected: 'a whole number (files run in ascending order)' },
    policies: {
      type: 'array',
      expected: 'a list of policies',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name'],
        expected: 'a policy mapping',
        properties: {
          name: asciiName,
          description: { type: 'string', expected: 'a string' },
          enabled: { type: 'boolean', expected: 'true or false' },
          when: selector,
          unless: selector,
          score,
          signature: alertAction,
          confirmed: alertAction,
          anomaly: anomalyAction,
        },
      },
    },
  },
};
