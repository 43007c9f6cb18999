import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'

export type PythonCheck = { ok: true; bin: string; torch: string } | { ok: false; reason: string }

/**
 * The Python that runs training and its tests: $PYTHON if set, else Debian's /usr/bin/python3
 * (where apt's python3-torch lives), else the first python3 on PATH — the first that imports
 * torch, numpy and pytest.
 */
export function resolvePython(): PythonCheck {
  const candidates = process.env.PYTHON
    ? [process.env.PYTHON]
    : ['/usr/bin/python3', 'python3'].filter((p) => p === 'python3' || existsSync(p))
  const reasons: string[] = []
  for (const bin of candidates) {
    const r = spawnSync(bin, ['-c', 'import torch, numpy, pytest; print(torch.__version__)'], { encoding: 'utf8' })
    if (r.status === 0) return { ok: true, bin, torch: r.stdout.trim() }
    reasons.push(`${bin}: ${(r.stderr || String(r.error ?? '')).trim().split('\n').pop()}`)
  }
  return { ok: false, reason: `no Python with torch, numpy and pytest (${reasons.join('; ')})` }
}
