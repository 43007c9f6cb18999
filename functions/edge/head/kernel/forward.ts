// The edge head's forward pass (models/model.py `EdgeHead`) in AssemblyScript with f32x4 SIMD.
//
// This module owns no layout: the host (../kernel-head.ts) sizes the one linear memory once per
// isolate, writes the weights and each request's inputs, and binds every tensor and scratch buffer
// to a slot (`bind`). `forward(L, H)` then runs one request with no allocation. Matrices arrive
// transposed ([in, out], row-major), so every product is a sum of scaled weight rows, vectorized
// over the output width; every width is a multiple of 4 (the host checks).

// ---- slots: the host binds each to an address (the same list is in ../kernel-head.ts) ----------
const Q_MEAN = 0
const Q_STD = 1
const I_MEAN = 2
const I_STD = 3
const PRICE_NORM = 4 // [mean, std] of the log price
const ITEM_WT = 5 // [E, D]
const ITEM_PRICE_W = 6 // [D]: the price column of the item projection
const ITEM_B = 7
const QUERY_WT = 8 // [E, D]
const QUERY_B = 9
const NULL_SLOT = 10 // [D]: the history attention's always-attendable "no history" key
const P_Q_WT = 11 // [D, D]
const P_Q_B = 12
const P_KV_WT = 13 // [D, 2D]
const P_KV_B = 14
const P_O_WT = 15 // [D, D]
const P_O_B = 16
const MIX0_WT = 17 // [4D + 3, D]
const MIX0_B = 18
const MIX2_WT = 19 // [D, D]
const MIX2_B = 20
const N1_W = 21
const N1_B = 22
const A_QKV_WT = 23 // [D, 3D]
const A_QKV_B = 24
const A_O_WT = 25 // [D, D]
const A_O_B = 26
const N2_W = 27
const N2_B = 28
const FF0_WT = 29 // [D, F]
const FF0_B = 30
const FF2_WT = 31 // [F, D]
const FF2_B = 32
const OUT_W = 33 // [2, D]: click, buy rows
const OUT_B = 34
// Inputs and output.
const IN_QUERY = 35 // [E]
const IN_ITEMS = 36 // [L, E]
const IN_PRICE = 37 // [L]
const IN_HISTORY = 38 // [H, E]
const IN_HIST_PRICE = 39 // [H]
const OUT_SCORE = 40 // [L]
// Scratch.
const X = 41 // [L, D] candidates projected
const KEYS = 42 // [H + 1, D] the null slot, then the history projected
const QV = 43 // [D] the query projected
const U = 44 // [D] the history's mean
const QH = 45 // [L, D] history-attention queries
const KV = 46 // [H + 1, 2D] history-attention keys and values
const ATT = 47 // [L, D] attention output, heads concatenated
const MIX = 48 // [L, 4D + 3]
const M1 = 49 // [L, D]
const XM = 50 // [L, D] the list block's residual stream
const HN = 51 // [L, D]
const QKV = 52 // [L, 3D]
const FF = 53 // [L, F]
const KT = 54 // [HD, M4] one head's keys, transposed (M4: max(L, H + 1) rounded up to 4)
const PROBS = 55 // [M4] each query's 1 / softmax sum
const SCORES = 56 // [L, M4] one head's attention scores, then weights
const VH = 57 // [M4, HD] one head's values, packed
export const SLOTS = 58

// Static data, so the module allocates nothing: everything past __heap_base is the host's.
const slots = memory.data(SLOTS << 2)
let E = 0
let D = 0
let NH = 0
let HD = 0
let F = 0

/** Sets the model's widths: embedding E, model D, heads NH (D / NH a multiple of 4), feed-forward F. */
export function configure(e: i32, d: i32, heads: i32, ff: i32): void {
  E = e
  D = d
  NH = heads
  HD = d / heads
  F = ff
}

export function bind(index: i32, address: usize): void {
  store<usize>(slots + (<usize>index << 2), address)
}

/** Where the host may start laying out its tensors (past this module's static data). */
export function heapBase(): usize {
  return __heap_base
}

@inline
function at(index: i32): usize {
  return load<usize>(slots + (<usize>index << 2))
}

@inline
function f32At(base: usize, i: i32): f32 {
  return load<f32>(base + (<usize>i << 2))
}

@inline
function v4At(base: usize, i: i32): v128 {
  return v128.load(base + (<usize>i << 2))
}

@inline
function storeV4(base: usize, i: i32, v: v128): void {
  v128.store(base + (<usize>i << 2), v)
}

// ---- vector math ---------------------------------------------------------------------------
//
// Constant vectors are loaded from this table rather than written as constants: V8 builds each
// 128-bit constant from immediates (several instructions, every time it is used, even inside a
// loop), where a load is one.

const EXP_LO = 0
const EXP_HI = 1
const LOG2E = 2
const LN2_HI = 3
const LN2_LO = 4
const E0 = 5
const E1 = 6
const E2 = 7
const E3 = 8
const E4 = 9
const E5 = 10
const ONE = 11
const POW2_MAGIC = 12
const HALF = 13
const SQRT_HALF = 14
const ERF_P = 15
const A5 = 16
const A4 = 17
const A3 = 18
const A2 = 19
const A1 = 20
const CONSTANTS = memory.data<f32>(
  [
  -87.33654, -87.33654, -87.33654, -87.33654,
  88.72283, 88.72283, 88.72283, 88.72283,
  1.442695041, 1.442695041, 1.442695041, 1.442695041,
  0.693359375, 0.693359375, 0.693359375, 0.693359375,
  -0.00021219444, -0.00021219444, -0.00021219444, -0.00021219444,
  0.000198756915, 0.000198756915, 0.000198756915, 0.000198756915,
  0.0013981999507, 0.0013981999507, 0.0013981999507, 0.0013981999507,
  0.0083334519073, 0.0083334519073, 0.0083334519073, 0.0083334519073,
  0.041665795894, 0.041665795894, 0.041665795894, 0.041665795894,
  0.16666665459, 0.16666665459, 0.16666665459, 0.16666665459,
  0.50000001201, 0.50000001201, 0.50000001201, 0.50000001201,
  1.0, 1.0, 1.0, 1.0,
  12583039.0, 12583039.0, 12583039.0, 12583039.0,
  0.5, 0.5, 0.5, 0.5,
  0.70710678, 0.70710678, 0.70710678, 0.70710678,
  0.3275911, 0.3275911, 0.3275911, 0.3275911,
  1.061405429, 1.061405429, 1.061405429, 1.061405429,
  -1.453152027, -1.453152027, -1.453152027, -1.453152027,
  1.421413741, 1.421413741, 1.421413741, 1.421413741,
  -0.284496736, -0.284496736, -0.284496736, -0.284496736,
  0.254829592, 0.254829592, 0.254829592, 0.254829592,
  ],
  16,
)

@inline
function k4(index: i32): v128 {
  return v128.load(CONSTANTS + (<usize>index << 4))
}

/**
 * e^x per lane (Cephes expf: range reduction by ln 2, degree-6 polynomial); x below −87 gives ~0.
 * Written with the lane ops that map to one x86 instruction each in V8 (pmin/pmax, not min/max,
 * whose NaN rules cost a sequence; 2^n by the float-add trick, not a saturating convert).
 */
@inline
function exp4(x: v128): v128 {
  x = f32x4.pmin(f32x4.pmax(x, k4(EXP_LO)), k4(EXP_HI))
  const n = f32x4.nearest(f32x4.mul(x, k4(LOG2E)))
  let r = f32x4.sub(x, f32x4.mul(n, k4(LN2_HI)))
  r = f32x4.sub(r, f32x4.mul(n, k4(LN2_LO)))
  let p = k4(E0)
  p = f32x4.add(f32x4.mul(p, r), k4(E1))
  p = f32x4.add(f32x4.mul(p, r), k4(E2))
  p = f32x4.add(f32x4.mul(p, r), k4(E3))
  p = f32x4.add(f32x4.mul(p, r), k4(E4))
  p = f32x4.add(f32x4.mul(p, r), k4(E5))
  p = f32x4.add(f32x4.add(f32x4.mul(p, f32x4.mul(r, r)), r), k4(ONE))
  // n + 1.5·2^23 + 127 holds n + 127 in its low mantissa bits; shifted up, they are 2^n's exponent.
  const scale = i32x4.shl(f32x4.add(n, k4(POW2_MAGIC)), 23)
  return f32x4.mul(p, scale)
}

/** GELU with the exact erf (as torch's nn.GELU), erf by Abramowitz–Stegun 7.1.26 (|error| < 1.5e-7). */
@inline
function gelu4(x: v128): v128 {
  const z = f32x4.mul(f32x4.abs(x), k4(SQRT_HALF))
  const t = f32x4.div(k4(ONE), f32x4.add(k4(ONE), f32x4.mul(z, k4(ERF_P))))
  let p = k4(A5)
  p = f32x4.add(f32x4.mul(p, t), k4(A4))
  p = f32x4.add(f32x4.mul(p, t), k4(A3))
  p = f32x4.add(f32x4.mul(p, t), k4(A2))
  p = f32x4.add(f32x4.mul(p, t), k4(A1))
  const erfAbs = f32x4.sub(k4(ONE), f32x4.mul(f32x4.mul(p, t), exp4(f32x4.neg(f32x4.mul(z, z)))))
  // erf is odd: x's sign bit onto erf(|x|) (which is ≥ 0).
  const erf = v128.or(erfAbs, v128.andnot(x, f32x4.abs(x)))
  return f32x4.mul(f32x4.mul(x, k4(HALF)), f32x4.add(k4(ONE), erf))
}

@inline
function sum4(v: v128): f32 {
  return (
    f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3))
  )
}

// ---- layers --------------------------------------------------------------------------------

/**
 * y[r] = b + x[r] · Wt for rows r < n (Wt [nIn, nOut]; no bias where b is 0); `accumulate` adds
 * that to y[r] instead. Two rows at a time and up to 24 outputs at a time, so each weight vector
 * loaded serves two multiply-adds and each input splat serves up to six.
 */
function linear(
  x: usize,
  xStride: i32,
  n: i32,
  nIn: i32,
  wt: usize,
  b: usize,
  nOut: i32,
  y: usize,
  yStride: i32,
  accumulate: bool,
): void {
  for (let r = 0; r < n; r += 2) {
    const xa = x + (<usize>(r * xStride) << 2)
    const ya = y + (<usize>(r * yStride) << 2)
    const last = r + 1 == n
    const xb = last ? xa : xa + (<usize>xStride << 2)
    const yb = last ? ya : ya + (<usize>yStride << 2)
    let o = 0
    for (; o + 24 <= nOut; o += 24) block6(xa, xb, nIn, wt, b, nOut, o, ya, yb, accumulate)
    for (; o + 12 <= nOut; o += 12) block3(xa, xb, nIn, wt, b, nOut, o, ya, yb, accumulate)
    for (; o < nOut; o += 4) block1(xa, xb, nIn, wt, b, nOut, o, ya, yb, accumulate)
  }
}

/** Outputs o…o+24 of rows a and b (b may be a again: then both compute, and store, the same row). */
@inline
function block6(xa: usize, xb: usize, nIn: i32, wt: usize, b: usize, nOut: i32, o: i32, ya: usize, yb: usize, accumulate: bool): void {
  let a0 = b ? v4At(b, o + 0) : f32x4.splat(0)
  let a1 = b ? v4At(b, o + 4) : f32x4.splat(0)
  let a2 = b ? v4At(b, o + 8) : f32x4.splat(0)
  let a3 = b ? v4At(b, o + 12) : f32x4.splat(0)
  let a4 = b ? v4At(b, o + 16) : f32x4.splat(0)
  let a5 = b ? v4At(b, o + 20) : f32x4.splat(0)
  let b0 = a0
  let b1 = a1
  let b2 = a2
  let b3 = a3
  let b4 = a4
  let b5 = a5
  let w = wt + (<usize>o << 2)
  const step = <usize>nOut << 2
  for (let k = 0; k < nIn; k++) {
    const sa = v128.load32_splat(xa + (<usize>k << 2))
    const sb = v128.load32_splat(xb + (<usize>k << 2))
    const w0 = v128.load(w)
    a0 = f32x4.add(a0, f32x4.mul(sa, w0))
    b0 = f32x4.add(b0, f32x4.mul(sb, w0))
    const w1 = v128.load(w, 16)
    a1 = f32x4.add(a1, f32x4.mul(sa, w1))
    b1 = f32x4.add(b1, f32x4.mul(sb, w1))
    const w2 = v128.load(w, 32)
    a2 = f32x4.add(a2, f32x4.mul(sa, w2))
    b2 = f32x4.add(b2, f32x4.mul(sb, w2))
    const w3 = v128.load(w, 48)
    a3 = f32x4.add(a3, f32x4.mul(sa, w3))
    b3 = f32x4.add(b3, f32x4.mul(sb, w3))
    const w4 = v128.load(w, 64)
    a4 = f32x4.add(a4, f32x4.mul(sa, w4))
    b4 = f32x4.add(b4, f32x4.mul(sb, w4))
    const w5 = v128.load(w, 80)
    a5 = f32x4.add(a5, f32x4.mul(sa, w5))
    b5 = f32x4.add(b5, f32x4.mul(sb, w5))
    w += step
  }
  if (accumulate) {
    a0 = f32x4.add(a0, v4At(ya, o + 0))
    b0 = f32x4.add(b0, v4At(yb, o + 0))
    a1 = f32x4.add(a1, v4At(ya, o + 4))
    b1 = f32x4.add(b1, v4At(yb, o + 4))
    a2 = f32x4.add(a2, v4At(ya, o + 8))
    b2 = f32x4.add(b2, v4At(yb, o + 8))
    a3 = f32x4.add(a3, v4At(ya, o + 12))
    b3 = f32x4.add(b3, v4At(yb, o + 12))
    a4 = f32x4.add(a4, v4At(ya, o + 16))
    b4 = f32x4.add(b4, v4At(yb, o + 16))
    a5 = f32x4.add(a5, v4At(ya, o + 20))
    b5 = f32x4.add(b5, v4At(yb, o + 20))
  }
  storeV4(ya, o + 0, a0)
  storeV4(ya, o + 4, a1)
  storeV4(ya, o + 8, a2)
  storeV4(ya, o + 12, a3)
  storeV4(ya, o + 16, a4)
  storeV4(ya, o + 20, a5)
  storeV4(yb, o + 0, b0)
  storeV4(yb, o + 4, b1)
  storeV4(yb, o + 8, b2)
  storeV4(yb, o + 12, b3)
  storeV4(yb, o + 16, b4)
  storeV4(yb, o + 20, b5)
}

/** Outputs o…o+12 of rows a and b (b may be a again: then both compute, and store, the same row). */
@inline
function block3(xa: usize, xb: usize, nIn: i32, wt: usize, b: usize, nOut: i32, o: i32, ya: usize, yb: usize, accumulate: bool): void {
  let a0 = b ? v4At(b, o + 0) : f32x4.splat(0)
  let a1 = b ? v4At(b, o + 4) : f32x4.splat(0)
  let a2 = b ? v4At(b, o + 8) : f32x4.splat(0)
  let b0 = a0
  let b1 = a1
  let b2 = a2
  let w = wt + (<usize>o << 2)
  const step = <usize>nOut << 2
  for (let k = 0; k < nIn; k++) {
    const sa = v128.load32_splat(xa + (<usize>k << 2))
    const sb = v128.load32_splat(xb + (<usize>k << 2))
    const w0 = v128.load(w)
    a0 = f32x4.add(a0, f32x4.mul(sa, w0))
    b0 = f32x4.add(b0, f32x4.mul(sb, w0))
    const w1 = v128.load(w, 16)
    a1 = f32x4.add(a1, f32x4.mul(sa, w1))
    b1 = f32x4.add(b1, f32x4.mul(sb, w1))
    const w2 = v128.load(w, 32)
    a2 = f32x4.add(a2, f32x4.mul(sa, w2))
    b2 = f32x4.add(b2, f32x4.mul(sb, w2))
    w += step
  }
  if (accumulate) {
    a0 = f32x4.add(a0, v4At(ya, o + 0))
    b0 = f32x4.add(b0, v4At(yb, o + 0))
    a1 = f32x4.add(a1, v4At(ya, o + 4))
    b1 = f32x4.add(b1, v4At(yb, o + 4))
    a2 = f32x4.add(a2, v4At(ya, o + 8))
    b2 = f32x4.add(b2, v4At(yb, o + 8))
  }
  storeV4(ya, o + 0, a0)
  storeV4(ya, o + 4, a1)
  storeV4(ya, o + 8, a2)
  storeV4(yb, o + 0, b0)
  storeV4(yb, o + 4, b1)
  storeV4(yb, o + 8, b2)
}

/** Outputs o…o+4 of rows a and b (b may be a again: then both compute, and store, the same row). */
@inline
function block1(xa: usize, xb: usize, nIn: i32, wt: usize, b: usize, nOut: i32, o: i32, ya: usize, yb: usize, accumulate: bool): void {
  let a0 = b ? v4At(b, o + 0) : f32x4.splat(0)
  let b0 = a0
  let w = wt + (<usize>o << 2)
  const step = <usize>nOut << 2
  for (let k = 0; k < nIn; k++) {
    const sa = v128.load32_splat(xa + (<usize>k << 2))
    const sb = v128.load32_splat(xb + (<usize>k << 2))
    const w0 = v128.load(w)
    a0 = f32x4.add(a0, f32x4.mul(sa, w0))
    b0 = f32x4.add(b0, f32x4.mul(sb, w0))
    w += step
  }
  if (accumulate) {
    a0 = f32x4.add(a0, v4At(ya, o + 0))
    b0 = f32x4.add(b0, v4At(yb, o + 0))
  }
  storeV4(ya, o + 0, a0)
  storeV4(yb, o + 0, b0)
}

/** Standardizes n rows of width w in place: (x − mean) / std per coordinate. */
function standardize(x: usize, n: i32, w: i32, mean: usize, std: usize): void {
  for (let r = 0; r < n; r++) {
    const row = x + (<usize>(r * w) << 2)
    for (let c = 0; c < w; c += 4) storeV4(row, c, f32x4.div(f32x4.sub(v4At(row, c), v4At(mean, c)), v4At(std, c)))
  }
}

/** Prices in place → standardized log prices. */
function logPrices(p: usize, n: i32): void {
  const norm = at(PRICE_NORM)
  const mean = f32At(norm, 0)
  const std = f32At(norm, 1)
  for (let i = 0; i < n; i++) store<f32>(p + (<usize>i << 2), (Mathf.log(f32At(p, i)) - mean) / std)
}

/** Adds price[r] · w to each of n rows of width D. */
function addPriceColumn(y: usize, n: i32, price: usize, w: usize): void {
  for (let r = 0; r < n; r++) {
    const row = y + (<usize>(r * D) << 2)
    const s = f32x4.splat(f32At(price, r))
    for (let c = 0; c < D; c += 4) storeV4(row, c, f32x4.add(v4At(row, c), f32x4.mul(s, v4At(w, c))))
  }
}

/** LayerNorm over rows of width D (eps 1e-5, as torch's). */
function layerNorm(x: usize, n: i32, gamma: usize, beta: usize, y: usize): void {
  const inv = <f32>1 / <f32>D
  for (let r = 0; r < n; r++) {
    const row = x + (<usize>(r * D) << 2)
    const out = y + (<usize>(r * D) << 2)
    let s = f32x4.splat(0)
    for (let c = 0; c < D; c += 4) s = f32x4.add(s, v4At(row, c))
    const mean = f32x4.splat(sum4(s) * inv)
    let q = f32x4.splat(0)
    for (let c = 0; c < D; c += 4) {
      const d = f32x4.sub(v4At(row, c), mean)
      q = f32x4.add(q, f32x4.mul(d, d))
    }
    const rstd = f32x4.splat(<f32>1 / Mathf.sqrt(sum4(q) * inv + 1e-5))
    for (let c = 0; c < D; c += 4) {
      const v = f32x4.mul(f32x4.sub(v4At(row, c), mean), rstd)
      storeV4(out, c, f32x4.add(f32x4.mul(v, v4At(gamma, c)), v4At(beta, c)))
    }
  }
}

function geluInPlace(x: usize, count: i32): void {
  for (let i = 0; i < count; i += 4) storeV4(x, i, gelu4(v4At(x, i)))
}

/**
 * Multi-head scaled dot-product attention: n queries (row stride qStride) over m keys and values
 * (row strides kvStride; head h reads columns h·HD… of each), heads concatenated into out [n, D].
 * Per head, both products are `linear` calls: scores = Q · Kᵀ (keys packed transposed), then the
 * softmax in place, then out = P · V (values packed), each row divided by its softmax sum.
 */
function attention(q: usize, qStride: i32, n: i32, k: usize, v: usize, kvStride: i32, m: i32, out: usize): void {
  const kt = at(KT)
  const vh = at(VH)
  const scores = at(SCORES)
  const inv = at(PROBS)
  const m4 = (m + 3) & ~3
  const scale = f32x4.splat(<f32>1 / Mathf.sqrt(<f32>HD))
  for (let h = 0; h < NH; h++) {
    const col = h * HD
    for (let j = 0; j < m; j++) {
      for (let c = 0; c < HD; c++) store<f32>(kt + (<usize>(c * m4 + j) << 2), f32At(k, j * kvStride + col + c))
      for (let c = 0; c < HD; c += 4) storeV4(vh, j * HD + c, v4At(v, j * kvStride + col + c))
    }
    for (let c = 0; c < HD; c++) for (let j = m; j < m4; j++) store<f32>(kt + (<usize>(c * m4 + j) << 2), 0)
    linear(q + (<usize>col << 2), qStride, n, HD, kt, 0, m4, scores, m4, false)
    for (let i = 0; i < n; i++) store<f32>(inv + (<usize>i << 2), softmaxRow(scores + (<usize>(i * m4) << 2), m, m4, scale))
    linear(scores, m4, n, m, vh, 0, HD, out + (<usize>col << 2), D, false)
    for (let i = 0; i < n; i++) {
      const row = out + (<usize>(i * D + col) << 2)
      const s = f32x4.splat(f32At(inv, i))
      for (let c = 0; c < HD; c += 4) storeV4(row, c, f32x4.mul(v4At(row, c), s))
    }
  }
}

/** exp(scale · (x − max)) in place over a row of m scores (m4 wide, the lanes past m set to 0); returns 1 / their sum. */
function softmaxRow(row: usize, m: i32, m4: i32, scale: v128): f32 {
  let top: f32 = -Infinity
  let j = 0
  let best = f32x4.splat(-Infinity)
  for (; j + 4 <= m; j += 4) best = f32x4.pmax(best, v4At(row, j))
  for (; j < m; j++) top = Mathf.max(top, f32At(row, j))
  top = Mathf.max(
    top,
    Mathf.max(
      Mathf.max(f32x4.extract_lane(best, 0), f32x4.extract_lane(best, 1)),
      Mathf.max(f32x4.extract_lane(best, 2), f32x4.extract_lane(best, 3)),
    ),
  )
  const shift = f32x4.splat(top)
  let total = f32x4.splat(0)
  for (j = 0; j < m4; j += 4) {
    let e = exp4(f32x4.mul(f32x4.sub(v4At(row, j), shift), scale))
    // Lanes past the last key weigh nothing.
    if (j + 4 > m) e = v128.and(e, f32x4.lt(f32x4(0, 1, 2, 3), f32x4.splat(<f32>(m - j))))
    storeV4(row, j, e)
    total = f32x4.add(total, e)
  }
  return <f32>1 / sum4(total)
}

// ---- the head ------------------------------------------------------------------------------

/** Candidates and history items → their D-wide projections (X, and KEYS after the null slot). */
function projectItems(l: i32, h: i32): void {
  standardize(at(IN_QUERY), 1, E, at(Q_MEAN), at(Q_STD))
  standardize(at(IN_ITEMS), l, E, at(I_MEAN), at(I_STD))
  standardize(at(IN_HISTORY), h, E, at(I_MEAN), at(I_STD))
  logPrices(at(IN_PRICE), l)
  logPrices(at(IN_HIST_PRICE), h)
  linear(at(IN_ITEMS), E, l, E, at(ITEM_WT), at(ITEM_B), D, at(X), D, false)
  addPriceColumn(at(X), l, at(IN_PRICE), at(ITEM_PRICE_W))
  memory.copy(at(KEYS), at(NULL_SLOT), <usize>D << 2)
  const hist = at(KEYS) + (<usize>D << 2)
  linear(at(IN_HISTORY), E, h, E, at(ITEM_WT), at(ITEM_B), D, hist, D, false)
  addPriceColumn(hist, h, at(IN_HIST_PRICE), at(ITEM_PRICE_W))
  linear(at(IN_QUERY), E, 1, E, at(QUERY_WT), at(QUERY_B), D, at(QV), D, false)
}

/** The history's mean projection U (zero for an empty history). */
function historyMean(h: i32): void {
  const u = at(U)
  const hist = at(KEYS) + (<usize>D << 2)
  const inv = f32x4.splat(<f32>1 / <f32>max(h, 1))
  for (let c = 0; c < D; c += 4) {
    let s = f32x4.splat(0)
    for (let r = 0; r < h; r++) s = f32x4.add(s, v4At(hist, r * D + c))
    storeV4(u, c, f32x4.mul(s, inv))
  }
}

/** Each candidate's attention over [null slot, history] → ATT (after the output projection). */
function historyAttention(l: i32, h: i32): void {
  linear(at(X), D, l, D, at(P_Q_WT), at(P_Q_B), D, at(QH), D, false)
  linear(at(KEYS), D, h + 1, D, at(P_KV_WT), at(P_KV_B), 2 * D, at(KV), 2 * D, false)
  attention(at(QH), D, l, at(KV), at(KV) + (<usize>D << 2), 2 * D, h + 1, at(M1))
  linear(at(M1), D, l, D, at(P_O_WT), at(P_O_B), D, at(ATT), D, false)
}

/** MIX rows: [x, q⊙x, u⊙x, attended history, price level, price spread, price · level]. */
function mixInputs(l: i32, h: i32): void {
  const w = 4 * D + 3
  const hp = at(IN_HIST_PRICE)
  let level: f32 = 0
  for (let r = 0; r < h; r++) level += f32At(hp, r)
  level /= <f32>max(h, 1)
  let spread: f32 = 0
  for (let r = 0; r < h; r++) spread += (f32At(hp, r) - level) * (f32At(hp, r) - level)
  spread = Mathf.sqrt(spread / <f32>max(h, 1))
  const qv = at(QV)
  const u = at(U)
  for (let r = 0; r < l; r++) {
    const row = at(MIX) + (<usize>(r * w) << 2)
    const x = at(X) + (<usize>(r * D) << 2)
    const a = at(ATT) + (<usize>(r * D) << 2)
    for (let c = 0; c < D; c += 4) {
      const xv = v4At(x, c)
      storeV4(row, c, xv)
      storeV4(row, D + c, f32x4.mul(v4At(qv, c), xv))
      storeV4(row, 2 * D + c, f32x4.mul(v4At(u, c), xv))
      storeV4(row, 3 * D + c, v4At(a, c))
    }
    store<f32>(row + (<usize>(4 * D) << 2), level)
    store<f32>(row + (<usize>(4 * D + 1) << 2), spread)
    store<f32>(row + (<usize>(4 * D + 2) << 2), f32At(at(IN_PRICE), r) * level)
  }
  linear(at(MIX), w, l, w, at(MIX0_WT), at(MIX0_B), D, at(M1), D, false)
  geluInPlace(at(M1), l * D)
  linear(at(M1), D, l, D, at(MIX2_WT), at(MIX2_B), D, at(XM), D, false)
}

/** One pre-norm transformer layer over the list, in place on XM. */
function listBlock(l: i32): void {
  layerNorm(at(XM), l, at(N1_W), at(N1_B), at(HN))
  linear(at(HN), D, l, D, at(A_QKV_WT), at(A_QKV_B), 3 * D, at(QKV), 3 * D, false)
  const qkv = at(QKV)
  attention(qkv, 3 * D, l, qkv + (<usize>D << 2), qkv + (<usize>(2 * D) << 2), 3 * D, l, at(ATT))
  linear(at(ATT), D, l, D, at(A_O_WT), at(A_O_B), D, at(XM), D, true)
  layerNorm(at(XM), l, at(N2_W), at(N2_B), at(HN))
  linear(at(HN), D, l, D, at(FF0_WT), at(FF0_B), F, at(FF), F, false)
  geluInPlace(at(FF), l * F)
  linear(at(FF), F, l, F, at(FF2_WT), at(FF2_B), D, at(XM), D, true)
}

/** score = log σ(click) + log(1 + 2 σ(buy)), as GainHead. */
function gainHead(l: i32): void {
  const w = at(OUT_W)
  const b = at(OUT_B)
  const out = at(OUT_SCORE)
  for (let r = 0; r < l; r++) {
    const x = at(XM) + (<usize>(r * D) << 2)
    let c = f32x4.splat(0)
    let y = f32x4.splat(0)
    for (let k = 0; k < D; k += 4) {
      c = f32x4.add(c, f32x4.mul(v4At(x, k), v4At(w, k)))
      y = f32x4.add(y, f32x4.mul(v4At(x, k), v4At(w, D + k)))
    }
    const click = <f64>(sum4(c) + f32At(b, 0))
    const buy = <f64>(sum4(y) + f32At(b, 1))
    // log σ(c) = −softplus(−c), written to stay finite for any c.
    const logSigmoid = -(Math.max(-click, 0) + Math.log1p(Math.exp(-Math.abs(click))))
    const sigmoidBuy = 1 / (1 + Math.exp(-buy))
    store<f32>(out + (<usize>r << 2), <f32>(logSigmoid + Math.log1p(2 * sigmoidBuy)))
  }
}

/** Scores l candidates (l ≥ 1) against h history items (h ≥ 0) from the bound inputs into OUT_SCORE. */
export function forward(l: i32, h: i32): void {
  projectItems(l, h)
  historyMean(h)
  historyAttention(l, h)
  mixInputs(l, h)
  listBlock(l)
  gainHead(l)
}

/**
 * Lays a weight matrix out as the layers read it, once per isolate at load: rows r0…r1 and columns
 * c0…c1 of the row-major [·, cols] matrix at `src` (torch's [out, in]) into `dst` as [in, out].
 * Here rather than in the host because a fresh isolate runs the host's loops in its interpreter.
 */
export function transposeInto(src: usize, cols: i32, r0: i32, r1: i32, c0: i32, c1: i32, dst: usize): void {
  const n = r1 - r0
  for (let r = r0; r < r1; r++)
    for (let c = c0; c < c1; c++) store<f32>(dst + (<usize>((c - c0) * n + r - r0) << 2), f32At(src, r * cols + c))
}

/** The index of the first NaN or ±Inf among `count` floats at `address`, or −1. */
export function firstNonFinite(address: usize, count: i32): i32 {
  for (let i = 0; i < count; i++) if (!isFinite<f32>(f32At(address, i))) return i
  return -1
}

/**
 * For the benchmark: `iterations` rounds of 8 independent f32x4 multiply-adds (64 FLOPs a round),
 * the most this module's SIMD can do. Returns a value that depends on every lane, so nothing is
 * optimized away.
 */
export function simdPeak(iterations: i32, seed: f32): f32 {
  const m = f32x4.splat(0.999999)
  const a = f32x4.splat(seed)
  let v0 = f32x4.splat(1)
  let v1 = f32x4.splat(2)
  let v2 = f32x4.splat(3)
  let v3 = f32x4.splat(4)
  let v4 = f32x4.splat(5)
  let v5 = f32x4.splat(6)
  let v6 = f32x4.splat(7)
  let v7 = f32x4.splat(8)
  for (let i = 0; i < iterations; i++) {
    v0 = f32x4.add(f32x4.mul(v0, m), a)
    v1 = f32x4.add(f32x4.mul(v1, m), a)
    v2 = f32x4.add(f32x4.mul(v2, m), a)
    v3 = f32x4.add(f32x4.mul(v3, m), a)
    v4 = f32x4.add(f32x4.mul(v4, m), a)
    v5 = f32x4.add(f32x4.mul(v5, m), a)
    v6 = f32x4.add(f32x4.mul(v6, m), a)
    v7 = f32x4.add(f32x4.mul(v7, m), a)
  }
  return sum4(f32x4.add(f32x4.add(f32x4.add(v0, v1), f32x4.add(v2, v3)), f32x4.add(f32x4.add(v4, v5), f32x4.add(v6, v7))))
}
