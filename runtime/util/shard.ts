/**
 * Sharding of a case list over N independent jobs, as nnU-Net's prediction does it (`-num_parts N -part_id I`:
 * `caseids[part_id::num_parts]`, spec §6). Every case lands in exactly one part, the parts differ in size by at
 * most one, and a part depends only on the sorted case list, so N jobs started on N machines split the work
 * without talking to each other and never write the same output file.
 *
 *   parsePart("1/4")                   → { partId: 1, numParts: 4 }   (the `--part I/N` syntax; I is 0-based)
 *   selectPart(caseIds, partId, n)     → caseIds[partId], caseIds[partId + n], ...
 */
import { NnucError } from '../errors.js';

export interface Part {
  /** 0-based index of this part (nnU-Net's part_id) */
  readonly partId: number;
  /** number of parts (nnU-Net's num_parts) */
  readonly numParts: number;
}

function checkPart(partId: number, numParts: number): void {
  if (!Number.isSafeInteger(numParts) || numParts < 1) {
    throw new NnucError('NNU8001', `the number of parts must be a whole number >= 1 (got ${String(numParts)})`);
  }
  if (!Number.isSafeInteger(partId) || partId < 0 || partId >= numParts) {
    throw new NnucError('NNU8001', `the part must be a whole number from 0 to ${numParts - 1} (got ${String(partId)})`);
  }
}

/** `caseIds[partId::numParts]` (Python slice), in the order given. */
export function selectPart<T>(caseIds: readonly T[], partId: number, numParts: number): T[] {
  checkPart(partId, numParts);
  const out: T[] = [];
  for (let i = partId; i < caseIds.length; i += numParts) out.push(caseIds[i]);
  return out;
}

/** Parses `I/N` (e.g. `0/4`): part I of N, 0 <= I < N. Whitespace and signs are refused. */
export function parsePart(spec: string): Part {
  const m = /^(0|[1-9][0-9]{0,8})\/([1-9][0-9]{0,8})$/.exec(spec);
  if (!m) throw new NnucError('NNU8001', `--part takes I/N, e.g. 0/4 (got ${JSON.stringify(spec)})`);
  const part = { partId: Number(m[1]), numParts: Number(m[2]) };
  checkPart(part.partId, part.numParts);
  return part;
}
