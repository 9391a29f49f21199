/**
 * Codes of the errors the planner's algorithms raise on invalid input. They are thrown as `RuleError`
 * (compiler/builtins/types.ts) so the rule evaluator reports them at the call's source span; the catalog
 * entries (title, hint) live in grammar/diagnostics.ts in the "rule evaluation" block (NNU35xx).
 */
export const PLANNER_ERRORS = {
  /** a percentile / median of an empty list */
  EMPTY: 'NNU3501',
  /** a spacing or size that is zero, negative or not finite */
  NON_POSITIVE: 'NNU3502',
  /** lists whose lengths must agree do not (per-axis values, per-case values) */
  LENGTH_MISMATCH: 'NNU3503',
  /** the network cannot fit the memory target even at the smallest patch */
  CANNOT_FIT: 'NNU3504',
  /** an index out of range / a missing key while evaluating */
  INDEX: 'NNU3505',
  /** dimensionality other than 2 or 3 */
  BAD_DIM: 'NNU3506',
  /** a value of the wrong kind reached a builtin at run time */
  BAD_VALUE: 'NNU3507',
  /** the 3d_lowres search did not terminate within its iteration limit */
  NO_CONVERGENCE: 'NNU3508',
} as const;
