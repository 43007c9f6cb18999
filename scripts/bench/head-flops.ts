/**
 * The edge head's floating-point operations for one request of l candidates and h history items,
 * counted as the training chain counts them (torch's profiler: 2 per multiply-add of every matrix
 * product, attention's included; elementwise work not counted). A test pins this to the
 * chain's own count at 100 / 20 (models/metrics.json `flops.head`).
 */
export interface HeadWidths {
  d_emb: number
  dim: number
  ff: number
}

export function headFlops({ d_emb: e, dim: d, ff }: HeadWidths, l: number, h: number): number {
  const macs =
    (l + h) * (e + 1) * d + // item projection, candidates and history (price column included)
    e * d + // query projection
    l * d * d +
    (h + 1) * d * 2 * d +
    2 * l * (h + 1) * d +
    l * d * d + // history attention
    l * (4 * d + 3) * d +
    l * d * d + // mix
    l * d * 3 * d +
    2 * l * l * d +
    l * d * d +
    2 * l * d * ff + // list block
    l * d * 2 // gain head
  return 2 * macs
}
