/**
 * Cross-validation splits as nnU-Net's `do_split` (spec §5.4): sorted identifiers, scikit-learn
 * KFold(5, shuffle=True, random_state=12345) over numpy's legacy RandomState (bit-exact, common/rng.ts),
 * written once to splits_final.json (sorted keys, indent 4) and reused (user splits respected).
 */
import { existsSync, readFileSync } from 'node:fs';
import { RandomState } from '../../common/rng.js';
import { pyJsonDumps } from '../../common/pyjson.js';
import { writeFileAtomic } from '../util/atomic.js';
import { NnucError } from '../errors.js';

export interface Split {
  train: string[];
  val: string[];
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** KFold(nSplits, shuffle=True, random_state=seed).split(range(n)): validation index lists per fold. */
export function kfoldIndices(n: number, nSplits = 5, seed = 12345): number[][] {
  if (n < nSplits) throw new NnucError('NNU6010', `cannot make ${nSplits} folds from ${n} cases`, { hint: 'add cases or provide splits_final.json yourself' });
  const idx = Array.from({ length: n }, (_, i) => i);
  new RandomState(seed).shuffle(idx);
  const out: number[][] = [];
  let cur = 0;
  for (let k = 0; k < nSplits; k++) {
    const size = Math.floor(n / nSplits) + (k < n % nSplits ? 1 : 0);
    out.push(idx.slice(cur, cur + size));
    cur += size;
  }
  return out;
}

/** nnU-Net's `generate_crossval_split(train_identifiers, seed=12345, n_splits=5)`. */
export function generateCrossvalSplit(identifiers: readonly string[], nSplits = 5, seed = 12345): Split[] {
  const ids = [...identifiers].sort(cmp);
  return kfoldIndices(ids.length, nSplits, seed).map((val) => {
    const v = new Set(val);
    return {
      train: ids.filter((_, i) => !v.has(i)),
      val: ids.filter((_, i) => v.has(i)),
    };
  });
}

export function splitsToJson(splits: readonly Split[]): string {
  return pyJsonDumps(splits.map((s) => ({ train: s.train, val: s.val })), { indent: 4, sortKeys: true });
}

/** Reads a splits_final.json (list of {train, val}); coded error when malformed. */
export function readSplits(path: string): Split[] {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new NnucError('NNU6011', `splits file is not valid JSON: ${(e as Error).message}`, { file: path });
  }
  if (!Array.isArray(raw) || !raw.every((s) => s && Array.isArray(s.train) && Array.isArray(s.val))) {
    throw new NnucError('NNU6011', 'splits file must be a list of {"train": [...], "val": [...]}', { file: path });
  }
  return raw.map((s) => ({ train: s.train.map(String), val: s.val.map(String) }));
}

/**
 * The train/val case lists of `fold` (a number or 'all'). Uses `splitsPath` if it exists, else creates it
 * (5 folds). A fold index beyond the file's splits → random 80:20 split with RandomState(12345 + fold),
 * as nnU-Net. Unknown case ids in a user split are a coded error.
 */
export function getFold(caseIds: readonly string[], fold: number | 'all', splitsPath: string): Split & { created: boolean } {
  const ids = [...caseIds].sort(cmp);
  if (fold === 'all') return { train: ids, val: ids, created: false };
  let created = false;
  let splits: Split[];
  if (existsSync(splitsPath)) splits = readSplits(splitsPath);
  else {
    splits = generateCrossvalSplit(ids);
    writeFileAtomic(splitsPath, splitsToJson(splits));
    created = true;
  }
  let sel: Split;
  if (fold < splits.length) sel = splits[fold];
  else {
    const rs = new RandomState(12345 + fold);
    const nTrain = Math.floor(ids.length * 0.8);
    const order = rs.choiceWithoutReplacement(ids.length, nTrain);
    const tr = new Set(Array.from(order));
    // nnU-Net keeps the train keys in the order choice() drew them
    sel = { train: Array.from(order, (i) => ids[i]), val: ids.filter((_, i) => !tr.has(i)) };
  }
  const known = new Set(ids);
  const unknown = [...sel.train, ...sel.val].filter((x) => !known.has(x));
  if (unknown.length) {
    throw new NnucError('NNU6012', `split of fold ${fold} names cases that are not in the preprocessed data: ${unknown.slice(0, 5).join(', ')}`, {
      file: splitsPath,
      hint: 'fix or delete splits_final.json (it is recreated with nnU-Net\'s rule)',
    });
  }
  return { ...sel, created };
}
