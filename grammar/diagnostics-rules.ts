/**
 * NNU3xxx: diagnostics of rule evaluation (resolving `rules` against a fingerprint), including errors
 * raised by builtins through `RuleError(code, message)` (compiler/builtins/types.ts).
 *
 * This block belongs to the rule evaluator and the builtin library: add codes here (next free number,
 * never renumber), with the same fields as every catalog entry (grammar/diagnostics.ts DiagnosticDef).
 * They are merged into DIAGNOSTICS and documented in docs/language.md automatically.
 * A builtin's message is passed through the `{message}` placeholder.
 */
import type { DiagnosticDef } from './diagnostics.js';

export const RULE_DIAGNOSTICS = {
  NNU3001: {
    severity: 'error',
    title: 'builtin failed',
    template: '{message}',
    explanation: 'A builtin function rejected its input (the message says why). The diagnostic points at the call.',
  },
  NNU3002: {
    severity: 'error',
    title: 'division by zero',
    template: 'division by zero',
    explanation: 'A rule divided by a value that evaluated to zero.',
  },
  NNU3003: {
    severity: 'error',
    title: 'index out of range',
    template: 'index {index} is out of range for a list of {length} elements',
    explanation: 'An index `a[i]` lies outside the list (negative indices count from the end).',
  },
  NNU3004: {
    severity: 'error',
    title: 'empty list',
    template: '{message}',
    explanation: 'A statistic (median, percentile, min, max) of an empty list has no value.',
  },
  NNU3005: {
    severity: 'error',
    title: 'value out of range at evaluation',
    template: '{what} must be {bound}, got {value}',
    explanation: 'A plan key or configuration field evaluated to a value outside its allowed range.',
  },
} as const satisfies Record<string, DiagnosticDef>;
