// iptables I/O for one flavour (iptables-nft or iptables-legacy): read the filter tables with
// iptables-save / ip6tables-save, apply scripts with iptables-restore --noflush (one atomic
// restore per family; the script goes through a temp file, like nft batches).
import { writeFile, unlink } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { ERRNO, errnoNumber } from '../base/index.ts'
import { FirewallError, defaultExec, type ExecFn, type ExecResult } from '../nft/index.ts'
import { parseSave, type Family, type Flavour, type IptObserved } from './model.ts'
import type { IptScripts } from './plan.ts'

const firstLines = (s: string, n = 6): string => s.trim().split('\n').slice(0, n).join('\n')

export interface IptablesRunnerOptions {
  flavour: Flavour
  exec?: ExecFn
  tmpDir?: string
}

/** Program names of a flavour: iptables-nft-restore, ip6tables-legacy-save, ... */
export function toolName(flavour: Flavour, family: Family, tool: 'save' | 'restore'): string {
  return `${family === 4 ? 'iptables' : 'ip6tables'}-${flavour}-${tool}`
}

/**
 * Which iptables the host uses, from `iptables -V` ("iptables v1.8.9 (nf_tables)" or
 * "(legacy)"; versions before 1.8 print no flavour and are legacy). undefined: not installed.
 */
export async function detectFlavour(exec: ExecFn = defaultExec): Promise<Flavour | undefined> {
  let r: ExecResult
  try {
    r = await exec('iptables', ['-V'])
  } catch {
    return undefined
  }
  if (r.code !== 0) return undefined
  return /nf_tables/.test(r.stdout) ? 'nft' : 'legacy'
}

export class IptablesRunner {
  readonly flavour: Flavour
  readonly #exec: ExecFn
  readonly #tmp: string
  /** iptables-restore runs (kernel transactions) */
  transactions = 0

  constructor(opts: IptablesRunnerOptions) {
    this.flavour = opts.flavour
    this.#exec = opts.exec ?? defaultExec
    this.#tmp = opts.tmpDir ?? tmpdir()
  }

  async #run(prog: string, args: readonly string[]): Promise<ExecResult> {
    try {
      return await this.#exec(prog, args)
    } catch (e) {
      const errno = errnoNumber(e)
      const hint = errno === ERRNO.ENOENT ? `not found (install iptables, or set agent.firewall to "nftables" or "none")` : (e as Error).message
      throw new FirewallError(prog, `Cannot run "${prog}": ${hint}`, { errno, cause: e })
    }
  }

  async save(family: Family): Promise<string> {
    const prog = toolName(this.flavour, family, 'save')
    const r = await this.#run(prog, [])
    if (r.code !== 0) throw new FirewallError(prog, `"${prog}" failed: ${firstLines(r.stderr)}`, { stderr: r.stderr })
    return r.stdout
  }

  async observe(): Promise<IptObserved> {
    const [v4, v6] = await Promise.all([this.save(4), this.save(6)])
    return { 4: parseSave(v4), 6: parseSave(v6) }
  }

  async restore(family: Family, script: string): Promise<void> {
    const prog = toolName(this.flavour, family, 'restore')
    const file = join(this.#tmp, `porter-ipt${family}-${process.pid}-${randomBytes(4).toString('hex')}.rules`)
    await writeFile(file, script, { mode: 0o600, flag: 'wx' })
    try {
      this.transactions++
      const r = await this.#run(prog, ['-w', '--noflush', file])
      if (r.code !== 0) {
        throw new FirewallError(prog, `${prog} --noflush failed (nothing was changed in the IPv${family} filter table): ${firstLines(r.stderr)}`, { stderr: r.stderr })
      }
    } finally {
      await unlink(file).catch(() => undefined)
    }
  }

  async apply(scripts: IptScripts): Promise<void> {
    for (const f of [4, 6] as Family[]) {
      const s = scripts[f]
      if (s !== undefined) await this.restore(f, s)
    }
  }
}
