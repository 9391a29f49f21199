/**
 * numpy's legacy `RandomState` (MT19937), as far as nnU-Net uses it (spec Appendix B):
 * seeding with init_genrand, bounded integers by masked rejection, choice with and without
 * replacement, shuffle/permutation and random_sample. Bit-identical to numpy for these calls.
 *
 * The generator works block-wise: the 624-word state is twisted and tempered a whole block at a time in
 * int32 arithmetic (no boxed uint32 numbers) into an output buffer. Scalar calls (`nextUint32`, `boundedInt`,
 * ...) and the bulk call (`boundedIntFill`, about ten times faster for the fingerprint's 1e8 draws) read the
 * same buffer, so they can be interleaved freely and give the same stream as numpy.
 */
const N = 624;
const M = 397;
const MATRIX_A = 0x9908b0df | 0;
const UPPER = 0x80000000 | 0;
const LOWER = 0x7fffffff;
const T1 = 0x9d2c5680 | 0;
const T2 = 0xefc60000 | 0;

export class RandomState {
  private readonly mt = new Int32Array(N);
  /** Tempered outputs of the current block (int32 bit patterns of the uint32 outputs). */
  private readonly out = new Int32Array(N);
  private pos = N;

  constructor(seed: number) {
    this.seed(seed);
  }

  /** init_genrand(seed) (numpy `RandomState(seed)` / `seed(seed)` for an integer seed). */
  seed(seed: number): void {
    const mt = this.mt;
    mt[0] = seed | 0;
    for (let i = 1; i < N; i++) {
      const prev = mt[i - 1] ^ (mt[i - 1] >>> 30);
      // 1812433253 * prev + i (mod 2^32)
      mt[i] = (Math.imul(1812433253, prev) + i) | 0;
    }
    this.pos = N;
  }

  /** Twists the state and tempers the next 624 outputs into `out`. */
  private refill(): void {
    const mt = this.mt;
    const out = this.out;
    let kk = 0;
    let y: number;
    for (; kk < N - M; kk++) {
      y = (mt[kk] & UPPER) | (mt[kk + 1] & LOWER);
      mt[kk] = mt[kk + M] ^ (y >>> 1) ^ (-(y & 1) & MATRIX_A);
    }
    for (; kk < N - 1; kk++) {
      y = (mt[kk] & UPPER) | (mt[kk + 1] & LOWER);
      mt[kk] = mt[kk + (M - N)] ^ (y >>> 1) ^ (-(y & 1) & MATRIX_A);
    }
    y = (mt[N - 1] & UPPER) | (mt[0] & LOWER);
    mt[N - 1] = mt[M - 1] ^ (y >>> 1) ^ (-(y & 1) & MATRIX_A);
    for (let i = 0; i < N; i++) {
      let t = mt[i];
      t ^= t >>> 11;
      t ^= (t << 7) & T1;
      t ^= (t << 15) & T2;
      t ^= t >>> 18;
      out[i] = t;
    }
    this.pos = 0;
  }

  /** Next tempered 32-bit output (genrand_int32). */
  nextUint32(): number {
    if (this.pos === N) this.refill();
    return this.out[this.pos++] >>> 0;
  }

  /** Uniform integer in [0, max] by masked rejection (numpy legacy `random_interval`). max < 2^32. */
  boundedInt(max: number): number {
    if (max === 0) return 0;
    let mask = max;
    mask |= mask >>> 1;
    mask |= mask >>> 2;
    mask |= mask >>> 4;
    mask |= mask >>> 8;
    mask |= mask >>> 16;
    mask >>>= 0;
    let v: number;
    do {
      v = (this.nextUint32() & mask) >>> 0;
    } while (v > max);
    return v;
  }

  /**
   * Bulk `boundedInt(max)`: fills `into[0..count)` with uniform integers in [0, max] by masked rejection,
   * the same draws as `count` calls of boundedInt (numpy legacy `randint(0, max + 1, count)` /
   * `choice(max + 1, count, replace=True)`), without a call per draw. max < 2^31.
   */
  boundedIntFill(max: number, into: Int32Array | Uint32Array, count = into.length): void {
    if (!(max >= 0 && max <= 0x7fffffff)) throw new RangeError('RandomState.boundedIntFill: max must be in [0, 2^31)');
    if (max === 0) {
      into.fill(0, 0, count);
      return;
    }
    let mask = max;
    mask |= mask >>> 1;
    mask |= mask >>> 2;
    mask |= mask >>> 4;
    mask |= mask >>> 8;
    mask |= mask >>> 16;
    const out = this.out;
    let pos = this.pos;
    for (let i = 0; i < count; ) {
      if (pos === N) {
        this.refill();
        pos = 0;
      }
      const v = out[pos++] & mask;
      if (v <= max) into[i++] = v;
    }
    this.pos = pos;
  }

  /** `random_sample()`: uniform double in [0, 1) with 53 random bits. */
  randomSample(): number {
    const a = this.nextUint32() >>> 5;
    const b = this.nextUint32() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }

  /** `choice(n, k, replace=True)`: k indices in [0, n-1]. */
  choiceWithReplacement(n: number, k: number): Uint32Array {
    if (n <= 0) throw new RangeError('choice from an empty population');
    const out = new Uint32Array(k);
    if (n - 1 <= 0x7fffffff) this.boundedIntFill(n - 1, out);
    else for (let i = 0; i < k; i++) out[i] = this.boundedInt(n - 1);
    return out;
  }

  /** In-place Fisher-Yates shuffle from the end (numpy legacy `shuffle`). */
  shuffle<T>(a: T[] | Uint32Array | Int32Array | Float64Array): void {
    for (let i = a.length - 1; i >= 1; i--) {
      const j = this.boundedInt(i);
      const t = a[i];
      a[i] = a[j];
      a[j] = t as never;
    }
  }

  /** `permutation(n)`. */
  permutation(n: number): Uint32Array {
    const a = new Uint32Array(n);
    for (let i = 0; i < n; i++) a[i] = i;
    this.shuffle(a);
    return a;
  }

  /** `choice(n, k, replace=False)` = first k entries of `permutation(n)`. */
  choiceWithoutReplacement(n: number, k: number): Uint32Array {
    if (k > n) throw new RangeError('cannot take a larger sample than population when replace=False');
    return this.permutation(n).slice(0, k);
  }
}
