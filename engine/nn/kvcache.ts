import { Tensor } from '../tensor';

/**
 * The keys and values of the positions seen so far, per self-attention layer (by its hook path), so a
 * decoding step computes one new position instead of the whole sequence. Keys are stored after RoPE.
 *   k: (B, T_cached, H_kv, d_head)   v: (B, T_cached, H_kv, d_v)
 * A cached forward must run to completion: `length` advances when the model's forward returns.
 */
export class KVCache {
  /** Positions cached (the absolute position of the next token). */
  length = 0;
  private readonly slots = new Map<string, { k: Tensor; v: Tensor }>();

  get(path: string): { k: Tensor; v: Tensor } | undefined {
    return this.slots.get(path);
  }

  /** Append this step's keys and values to a layer's; returns the whole (cached + new) k and v. */
  append(path: string, k: Tensor, v: Tensor): { k: Tensor; v: Tensor } {
    const past = this.slots.get(path);
    const both = past ? { k: concatTime(past.k, k), v: concatTime(past.v, v) } : { k, v };
    this.slots.set(path, both);
    return both;
  }

  /** Every layer's cached keys and values, by hook path. */
  entries(): IterableIterator<[string, { k: Tensor; v: Tensor }]> {
    return this.slots.entries();
  }

  /** Bytes held by the cached tensors. */
  bytes(): number {
    let n = 0;
    for (const s of this.slots.values()) n += s.k.data.byteLength + s.v.data.byteLength;
    return n;
  }
}

/** (B, T1, H, d) ++ (B, T2, H, d) along time → (B, T1 + T2, H, d). */
export function concatTime(a: Tensor, b: Tensor): Tensor {
  const [B, T1, H, d] = a.shape as [number, number, number, number];
  const T2 = b.shape[1];
  const row = H * d;
  const out = new Tensor([B, T1 + T2, H, d]);
  for (let i = 0; i < B; i++) {
    out.data.set(a.data.subarray(i * T1 * row, (i + 1) * T1 * row), i * (T1 + T2) * row);
    out.data.set(b.data.subarray(i * T2 * row, (i + 1) * T2 * row), (i * (T1 + T2) + T1) * row);
  }
  return out;
}

/** A new cache holding the first `length` positions of `cache` (to re-trace an earlier position with what it saw). */
export function cachePrefix(cache: KVCache, length: number): KVCache {
  const out = new KVCache();
  for (const [path, s] of cache.entries()) out.append(path, prefixTime(s.k, length), prefixTime(s.v, length));
  out.length = length;
  return out;
}

/** (B, T, H, d) → (B, n, H, d): the first n positions, copied. */
function prefixTime(a: Tensor, n: number): Tensor {
  const [B, T, H, d] = a.shape as [number, number, number, number];
  const row = H * d;
  const out = new Tensor([B, n, H, d]);
  for (let i = 0; i < B; i++) out.data.set(a.data.subarray(i * T * row, (i * T + n) * row), i * n * row);
  return out;
}
