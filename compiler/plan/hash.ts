/**
 * The three content hashes of a plan (ARCHITECTURE.md §3): each covers the keys of its stage
 * (compiler/plan/stages.ts) plus the hash of the stage before, so a change to preprocessing changes all
 * three, a change to training changes train and infer, and an inference-only change changes infer only.
 */
import { createHash } from 'node:crypto';
import { canonicalCompact } from './canonical.js';
import { stageOf, type Stage } from './stages.js';
import type { PlanHashes } from './types.js';

/** Leaves at hash granularity: top keys; configurations.<name>.<field>; fixed.<group>; empirical.<key>; dataset.<key>. */
export function stageEntries(plan: Readonly<Record<string, unknown>>): Array<{ path: string[]; value: unknown }> {
  const out: Array<{ path: string[]; value: unknown }> = [];
  for (const [k, v] of Object.entries(plan)) {
    if (k === 'hashes' || k === 'provenance') continue;
    if ((k === 'configurations' || k === 'fixed' || k === 'empirical' || k === 'dataset') && v && typeof v === 'object') {
      for (const [a, av] of Object.entries(v as Record<string, unknown>)) {
        if (k === 'configurations' && av && typeof av === 'object')
          for (const [b, bv] of Object.entries(av as Record<string, unknown>)) out.push({ path: [k, a, b], value: bv });
        else out.push({ path: [k, a], value: av });
      }
    } else out.push({ path: [k], value: v });
  }
  return out;
}

function sha(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

export function planHashes(plan: Readonly<Record<string, unknown>>): PlanHashes {
  const by: Record<Stage, Record<string, unknown>> = { preprocess: {}, train: {}, infer: {}, none: {} };
  for (const e of stageEntries(plan)) by[stageOf(e.path)][e.path.join('.')] = e.value;
  const preprocess = sha('nnuc-preprocess\n' + canonicalCompact(by.preprocess));
  const train = sha(`nnuc-train\n${preprocess}\n` + canonicalCompact(by.train));
  const infer = sha(`nnuc-infer\n${train}\n` + canonicalCompact(by.infer));
  return { preprocess, train, infer };
}
