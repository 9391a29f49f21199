/**
 * numpy's legacy `RandomState` (MT19937), as far as nnU-Net uses it (spec Appendix B):
 * seeding with init_genrand, bounded integers by masked rejection, choice with and without
 * replacement, shuffle/permutation and random_sample. Bit-identical to numpy for these calls.
 */
export class RandomState {
  private readonly mt = new Uint32Array(624);
  private mti = 625;

  constructor(seed: number) {
    this.seed(seed);
  }

  seed(seed: number): void {
    const mt = this.mt;
    mt[0] = seed >>> 0;
    for (let i = 1; i < 624; i++) {
      const prev = mt[i - 1] ^ (mt[i - 1] >>> 30);
      // 1812433253 * prev + i (mod 2^32), computed in 16-bit halves to stay exact
      mt[i] = ((((prev & 0xffff0000) >>> 16) * 1812433253) << 16) + (prev & 0x0000ffff) * 1812433253 + i;
    }
    this.mti = 624;
  }

  /** Next tempered 32-bit output (genrand_int32). */
  nextUint32(): number {
    const mt = this.mt;
    if (this.mti >= 624) {
      let kk = 0;
      let y: number;
      for (; kk < 624 - 397; kk++) {
        y = (mt[kk] & 0x80000000) | (mt[kk + 1] & 0x7fffffff);
        mt[kk] = mt[kk + 397] ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
      }
      for (; kk < 623; kk++) {
        y = (mt[kk] & 0x80000000) | (mt[kk + 1] & 0x7fffffff);
        mt[kk] = mt[kk + (397 - 624)] ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
      }
      y = (mt[623] & 0x80000000) | (mt[0] & 0x7fffffff);
      mt[623] = mt[396] ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
      this.mti = 0;
    }
    let y = mt[this.mti++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
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
    for (let i = 0; i < k; i++) out[i] = this.boundedInt(n - 1);
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
