/**
 * Checkpoints as plain data (spec §5.9; never code): one file per checkpoint,
 *   bytes 0-7   magic "NNUCKPT1"
 *   bytes 8-11  uint32 LE: header length H
 *   12..12+H    header, UTF-8 JSON (format, version, architecture, trainer state, tensor table)
 *   padding to a multiple of 4, then the tensors as float32 little-endian, in the table's order
 * Each tensor entry: {name, group: 'weights' | 'momentum', shape, offset (in float32 elements)}. Weight
 * names are nnU-Net's state-dict names in tfjs layouts (runtime/networks/params.ts).
 * Written atomically (temp file + fsync + rename): a killed run leaves the previous checkpoint intact.
 */
import { readFileSync, existsSync } from 'node:fs';
import { writeFileAtomic } from '../util/atomic.js';
import { NnucError } from '../errors.js';
import type { ArchitectureSpec } from '../networks/architecture.js';
import type { WeightArray } from '../networks/unet.js';

const MAGIC = 'NNUCKPT1';

export interface TrainerState {
  /** epochs completed (nnU-Net's `current_epoch` in the checkpoint = epoch + 1) */
  currentEpoch: number;
  bestEma: number | null;
  /** logger arrays (train_losses, val_losses, mean_fg_dice, ema_fg_dice, dice_per_class_or_region, lrs, epoch times) */
  logging: Record<string, unknown[]>;
  seed: number;
  trainHash: string;
  numEpochs: number;
  inferenceAllowedMirroringAxes: number[];
  configuration: string;
  fold: number | 'all';
  /** anything else worth keeping (init args, backend) */
  extra?: Record<string, unknown>;
}

export interface Checkpoint {
  architecture: ArchitectureSpec;
  weights: Map<string, WeightArray>;
  momentum: Map<string, WeightArray>;
  state: TrainerState;
}

interface TensorEntry {
  name: string;
  group: 'weights' | 'momentum';
  shape: number[];
  offset: number;
}

export function encodeCheckpoint(ck: Checkpoint): Buffer {
  const entries: TensorEntry[] = [];
  let offset = 0;
  const arrays: Float32Array[] = [];
  for (const [group, map] of [['weights', ck.weights], ['momentum', ck.momentum]] as const) {
    for (const [name, w] of map) {
      entries.push({ name, group, shape: [...w.shape], offset });
      offset += w.data.length;
      arrays.push(w.data);
    }
  }
  const header = Buffer.from(
    JSON.stringify({ format: 'nnuc-checkpoint', version: 1, architecture: ck.architecture, state: ck.state, tensors: entries, totalFloats: offset }),
    'utf8',
  );
  const headStart = 12;
  const dataStart = Math.ceil((headStart + header.length) / 4) * 4;
  const buf = Buffer.alloc(dataStart + offset * 4);
  buf.write(MAGIC, 0, 'latin1');
  buf.writeUInt32LE(header.length, 8);
  header.copy(buf, headStart);
  let pos = dataStart;
  for (const a of arrays) {
    const bytes = Buffer.from(a.buffer, a.byteOffset, a.byteLength);
    // float32 little-endian (every platform Node runs on is little-endian)
    bytes.copy(buf, pos);
    pos += a.byteLength;
  }
  return buf;
}

export function decodeCheckpoint(buf: Buffer, file?: string): Checkpoint {
  const corrupt = (why: string): never => {
    throw new NnucError('NNU6021', `checkpoint is corrupt or not an nnuc checkpoint: ${why}`, { file });
  };
  if (buf.length < 12 || buf.toString('latin1', 0, 8) !== MAGIC) corrupt('bad magic');
  const hlen = buf.readUInt32LE(8);
  if (12 + hlen > buf.length) corrupt('truncated header');
  let head: { format: string; version: number; architecture: ArchitectureSpec; state: TrainerState; tensors: TensorEntry[]; totalFloats: number };
  try {
    head = JSON.parse(buf.toString('utf8', 12, 12 + hlen));
  } catch {
    return corrupt('header is not JSON');
  }
  if (head.format !== 'nnuc-checkpoint' || head.version !== 1) corrupt(`unknown format ${head.format} v${head.version}`);
  const dataStart = Math.ceil((12 + hlen) / 4) * 4;
  if (buf.length !== dataStart + head.totalFloats * 4) corrupt(`expected ${dataStart + head.totalFloats * 4} bytes, found ${buf.length}`);
  const all = new Float32Array(head.totalFloats);
  Buffer.from(all.buffer).set(buf.subarray(dataStart, dataStart + head.totalFloats * 4));
  const weights = new Map<string, WeightArray>();
  const momentum = new Map<string, WeightArray>();
  for (const t of head.tensors) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (t.offset + n > head.totalFloats) corrupt(`tensor ${t.name} out of range`);
    (t.group === 'weights' ? weights : momentum).set(t.name, { shape: t.shape, data: all.slice(t.offset, t.offset + n) });
  }
  return { architecture: head.architecture, weights, momentum, state: head.state };
}

export function saveCheckpoint(path: string, ck: Checkpoint): void {
  writeFileAtomic(path, encodeCheckpoint(ck));
}

export function loadCheckpoint(path: string): Checkpoint {
  if (!existsSync(path)) throw new NnucError('NNU6022', 'checkpoint not found', { file: path, hint: 'train first (nnuc train), or check the fold and configuration' });
  return decodeCheckpoint(readFileSync(path), path);
}

export const CHECKPOINT_NAMES = {
  final: 'checkpoint_final.nnuc',
  latest: 'checkpoint_latest.nnuc',
  best: 'checkpoint_best.nnuc',
} as const;
