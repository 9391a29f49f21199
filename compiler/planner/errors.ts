/**
 * Codes of the errors the planner's algorithms and the builtins raise on invalid input. They are thrown as
 * `RuleError` (compiler/builtins/types.ts) so the rule evaluator reports them at the call's source span;
 * the catalog entries (title, template, explanation) are in grammar/diagnostics-rules.ts.
 */
export const PLANNER_ERRORS = {
  /** a percentile / median / min / max of an empty list */
  EMPTY: 'NNU3004',
  /** an index out of range */
  INDEX: 'NNU3003',
  /** a spacing or size that is zero, negative or not finite */
  NON_POSITIVE: 'NNU3006',
  /** lists whose lengths must agree do not (per-axis values, per-case values) */
  LENGTH_MISMATCH: 'NNU3007',
  /** the network cannot fit the memory target even at the smallest patch */
  CANNOT_FIT: 'NNU3008',
  /** dimensionality other than 2 or 3 */
  BAD_DIM: 'NNU3009',
  /** a value of the wrong kind reached a builtin at run time */
  BAD_VALUE: 'NNU3010',
  /** the 3d_lowres search did not terminate within its iteration limit */
  NO_CONVERGENCE: 'NNU3011',
} as const;
