/**
 * Checks of a recipe's rules against nnU-Net's planner presets.
 *
 * NNU3018: the effective recipe names a ResEnc preset planner (`let planner_class = "nnUNetPlannerResEncL"`, as
 * recipes/nnunet-resenc-{m,l,xl}.nnu do) but its `let vram_target` is not that preset's memory target
 * (8 / 24 / 40 GiB) — typically a child recipe or `--set` overriding the target. nnU-Net's preset planners
 * warn and proceed in that case (spec §3.1); so does nnuc, at the `vram_target` value (in whichever file of the
 * extends chain wrote it), naming the preset that matches the target instead, if any.
 */
import type * as A from '../../grammar/ast.js';
import { diagnostic, type Diagnostic } from '../../grammar/diagnostics.js';
import { PRESET_INFO, presetMemoryTargetGiB, type PlannerPreset } from '../planner/constants.js';
import { constNumber } from './consteval.js';

const RESENC_PRESETS: readonly PlannerPreset[] = ['resenc-m', 'resenc-l', 'resenc-xl'];

/** The shipped recipe of a preset (recipes/nnunet-resenc-l.nnu for 'resenc-l'). */
export function presetRecipeFile(preset: PlannerPreset): string {
  return preset === 'default' ? 'recipes/nnunet.nnu' : `recipes/nnunet-${preset}.nnu`;
}

const gib = (v: number): string => String(Number(v.toPrecision(12)));

/** NNU3018 for the effective (merged) recipe; silent unless both lets are constants. */
export function checkPresetMemoryTarget(recipe: A.Recipe, sink: (d: Diagnostic) => void): void {
  const lets = new Map<string, A.LetDecl>();
  for (const it of recipe.rules?.items ?? []) if (it.kind === 'Let') lets.set(it.name.name, it);
  const planner = lets.get('planner_class');
  const target = lets.get('vram_target');
  if (!planner || !target || planner.value.kind !== 'String') return;
  const plannerClass = planner.value.value;
  const preset = RESENC_PRESETS.find((p) => PRESET_INFO[p].plannerClass === plannerClass);
  if (!preset) return;
  const c = constNumber(target.value);
  if (!c.ok || c.num.dim !== 'memory') return;
  const value = c.num.value;
  const expected = presetMemoryTargetGiB(preset);
  if (value === expected) return;
  const match = RESENC_PRESETS.find((p) => presetMemoryTargetGiB(p) === value);
  const hint = match
    ? `nnU-Net's ResEnc preset for ${gib(value)} GiB is ${PRESET_INFO[match].plannerClass} (${presetRecipeFile(match)}): extend that recipe instead`
    : `no nnU-Net ResEnc preset targets ${gib(value)} GiB (${RESENC_PRESETS.map((p) => `${PRESET_INFO[p].plannerClass} ${presetMemoryTargetGiB(p)} GiB`).join(', ')}); ` +
      'to keep this target on purpose, give the planner its own planner_class and plans name';
  sink(
    diagnostic(
      'NNU3018',
      target.value.span,
      { target: gib(value), planner: plannerClass, expected: gib(expected), plans: PRESET_INFO[preset].plansName },
      { hint, related: [{ message: `planner_class ${plannerClass} is set here`, span: planner.value.span }] },
    ),
  );
}
