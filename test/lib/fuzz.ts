// One seeding rule for every fast-check property and fuzz test: a fixed seed by default (the same
// run every time, in CI too), printed as a TAP comment; PORTER_FC_SEED=<int> varies it and
// replays a printed one; PORTER_FC_SCALE=<n> multiplies the runs of `checkProperty` (a long
// campaign: PORTER_FC_SCALE=50). `fastCheckSeed(t)` also makes the seed fast-check's global
// default, so a plain `fc.assert(...)` in that file uses it.
import fc from 'fast-check'
import type { Test } from 'tap'

export const DEFAULT_FC_SEED = 1_720_000_001

function intFromEnv(name: string, fallback: number, min: number): number {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const n = Number(raw)
  if (!Number.isSafeInteger(n) || n < min) throw new Error(`${name}=${JSON.stringify(raw)} is not an integer >= ${min}`)
  return n
}

export interface FastCheckRun {
  seed: number
  scale: number
}

/** The seed (and scale) of this test file: printed, and fast-check's global default from now on. */
export function fastCheckSeed(t: Pick<Test, 'comment'>): FastCheckRun {
  const seed = intFromEnv('PORTER_FC_SEED', DEFAULT_FC_SEED, -(2 ** 31)) | 0
  const scale = intFromEnv('PORTER_FC_SCALE', 1, 1)
  fc.configureGlobal({ ...fc.readConfigureGlobal(), seed })
  t.comment(`fast-check seed ${seed} (PORTER_FC_SEED=<int> to vary it or replay one), scale ${scale} (PORTER_FC_SCALE)`)
  return { seed, scale }
}

/**
 * Run `prop` `runs` x scale times with the file's seed: one assertion that it ran them all, one
 * that it held (the counterexample, the seed and the path to replay it otherwise).
 */
export function checkProperty<Ts extends unknown[]>(t: Test, run: FastCheckRun, name: string, prop: fc.IProperty<Ts>, runs: number): void {
  runs *= run.scale
  const r = fc.check(prop, { numRuns: runs, seed: run.seed })
  t.equal(r.numRuns, r.failed ? r.numRuns : runs, `${name}: ran ${runs} cases`)
  t.ok(!r.failed, r.failed
    ? `${name}: counterexample ${fc.stringify(r.counterexample)} (seed ${r.seed}, path "${r.counterexample ? r.counterexamplePath : ''}")\n${String(r.errorInstance)}`
    : `${name}: holds`)
}
