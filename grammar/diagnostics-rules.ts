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
    template: '{message}',
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
  // ---- planner algorithms and the builtin library (compiler/planner/errors.ts, compiler/builtins) ----
  NNU3006: {
    severity: 'error',
    title: 'non-positive spacing or size',
    template: '{message}',
    explanation: 'A spacing, shape or patch size reaching the planner is zero, negative or not a finite number (check the fingerprint).',
  },
  NNU3007: {
    severity: 'error',
    title: 'length mismatch',
    template: '{message}',
    explanation: 'Per-axis or per-case lists that must have the same length do not (e.g. a 3-axis spacing with a 2-axis patch, or more spacings than shapes in the fingerprint).',
  },
  NNU3008: {
    severity: 'error',
    title: 'network does not fit the memory target',
    template: '{message}',
    explanation: 'The patch-shrinking loop reached an empty patch before the VRAM estimate fell below the reference; raise the memory target or the reference value.',
  },
  NNU3009: {
    severity: 'error',
    title: 'unsupported dimensionality',
    template: '{message}',
    explanation: 'The planner handles 2D and 3D configurations only.',
  },
  NNU3010: {
    severity: 'error',
    title: 'wrong kind of value',
    template: '{message}',
    explanation: 'A value of the wrong kind reached a builtin or an operator while evaluating (e.g. a list where a number was expected, or an input file with an unexpected layout).',
  },
  NNU3011: {
    severity: 'error',
    title: 'search did not converge',
    template: '{message}',
    explanation: 'An iterative search (the 3d_lowres spacing search) did not end within its iteration limit.',
  },
  NNU3012: {
    severity: 'error',
    title: 'invalid input file',
    template: '{message}',
    explanation: 'fingerprint.json or dataset.json cannot be read, is not JSON, or does not have the layout nnU-Net writes (spec §1.2, §2.3). The message names the file and the first offending key.',
  },
  NNU3013: {
    severity: 'error',
    title: 'cycle between rules',
    template: 'rule {name} depends on itself: {chain}',
    explanation: 'Evaluating the rule needs its own value (through configurations referring to each other, e.g. a `when` condition reading the configuration it guards).',
  },
  NNU3014: {
    severity: 'error',
    title: 'missing configuration field',
    template: 'configuration {config} has no value for {field}',
    explanation: 'A configuration that exists must produce every required field (spacing, patch_size, batch_size, the network topology, ...), directly, by `inherits`, or by `cascade`.',
  },
  NNU3015: {
    severity: 'error',
    title: 'invalid --set override',
    template: '{message}',
    explanation: '`--set PATH=VALUE` names a let of `rules` (`rules.NAME`, or `NAME`) or a setting of `fixed` / `empirical` (`fixed.training.epochs`); VALUE is a recipe expression, checked like recipe code.',
  },
  NNU3016: {
    severity: 'error',
    title: 'invalid plan file',
    template: '{message}',
    explanation: 'A plan.json does not match the plan schema (it was edited by hand or written by another version of nnuc). Recompile it with `nnuc compile`.',
  },
  NNU3017: {
    severity: 'error',
    title: 'configuration does not exist',
    template: 'configuration {config} does not exist for this dataset (its `when` condition is false)',
    explanation: 'A rule read a field of a configuration whose `when` condition is false; guard the read with `exists(NAME)`.',
  },
  // ---- checks of a recipe's rules against nnU-Net's planner presets (compiler/check/presets.ts) ----
  NNU3018: {
    severity: 'warning',
    title: 'ResEnc preset with another memory target',
    template: "vram_target = {target} GiB, but {planner} is nnU-Net's preset for {expected} GiB: the plan will not match nnU-Net's {plans}",
    explanation:
      "The recipe's `planner_class` names one of nnU-Net's ResEnc presets (nnUNetPlannerResEncM / L / XL, recipes/nnunet-resenc-{m,l,xl}.nnu), whose memory target is 8 / 24 / 40 GiB, but its `vram_target` is another value (typically a child recipe overriding it). The plan is still computed (nnU-Net warns and proceeds the same way), but its patch and batch sizes are not those of the preset it is named after. The hint names the preset made for that memory target, if there is one; to keep a custom target on purpose, give the planner its own `planner_class` and `plans` name.",
    example: 'let planner_class = "nnUNetPlannerResEncL"\nlet vram_target = 8 GiB',
    exampleIn: 'rules',
  },
} as const satisfies Record<string, DiagnosticDef>;
