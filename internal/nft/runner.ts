// nftables I/O: read Porter's table and the host's accept chain, apply a transaction. Every
// transaction is one `nft -j -f FILE` run (one atomic kernel transaction). The batch goes through
// a temporary file because nft cannot read a batch from a pipe set up by Node.
import { writeFile, unlink } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { ERRNO, errnoNumber } from '../base/index.ts'
import { FirewallError } from './errors.ts'
import { defaultExec, type ExecFn, type ExecResult } from './exec.ts'
import { parseTable, parseAcceptRules } from './parse.ts'
import { renderTransaction, describeTransaction } from './render.ts'
import { TABLE, TABLE_FAMILY, chainRefString, type ChainRef, type NftObserved, type NftTransaction, type ObservedAcceptChain, type ObservedTable } from './model.ts'

export interface NftRunnerOptions {
  exec?: ExecFn
  /** the nft program (default "nft", looked up in PATH) */
  nft?: string
  /** where batch files are written (default the OS temp dir) */
  tmpDir?: string
}


const firstLines = (s: string, n = 6): string => s.trim().split('\n').slice(0, n).join('\n')
const notFound = (stderr: string): boolean => /No such file or directory|does not exist/i.test(stderr)

export class NftRunner {
  readonly #exec: ExecFn
  readonly #nft: string
  readonly #tmp: string
  /** transactions sent to the kernel */
  transactions = 0

  constructor(opts: NftRunnerOptions = {}) {
    this.#exec = opts.exec ?? defaultExec
    this.#nft = opts.nft ?? 'nft'
    this.#tmp = opts.tmpDir ?? tmpdir()
  }

  async #run(args: readonly string[]): Promise<ExecResult> {
    try {
      return await this.#exec(this.#nft, args)
    } catch (e) {
      const errno = errnoNumber(e)
      const hint = errno === ERRNO.ENOENT
        ? 'not found (install the nftables package, or set agent.firewall to "iptables" or "none")'
        : (e as Error).message
      throw new FirewallError(this.#nft, `Cannot run "${this.#nft}": ${hint}`, { errno, cause: e })
    }
  }

  /** `nft --version`; throws FirewallError (errno ENOENT) when nft is missing. */
  async version(): Promise<string> {
    const r = await this.#run(['--version'])
    if (r.code !== 0) throw new FirewallError(this.#nft, `"${this.#nft} --version" failed: ${firstLines(r.stderr)}`, { stderr: r.stderr })
    return r.stdout.trim()
  }

  async readTable(): Promise<ObservedTable | undefined> {
    const r = await this.#run(['-j', 'list', 'table', TABLE_FAMILY, TABLE])
    if (r.code !== 0) {
      if (notFound(r.stderr)) return undefined
      throw new FirewallError(this.#nft, `Cannot list table "${TABLE_FAMILY} ${TABLE}": ${firstLines(r.stderr)}`, { stderr: r.stderr })
    }
    try {
      return parseTable(r.stdout)
    } catch (e) {
      throw new FirewallError(this.#nft, `Cannot parse the listing of table "${TABLE_FAMILY} ${TABLE}": ${(e as Error).message}`, { cause: e })
    }
  }

  async readAcceptChain(target: ChainRef): Promise<ObservedAcceptChain> {
    const r = await this.#run(['-j', 'list', 'chain', target.family, target.table, target.chain])
    if (r.code !== 0) {
      if (notFound(r.stderr)) return { target, rules: undefined }
      throw new FirewallError(this.#nft, `Cannot list chain "${chainRefString(target)}": ${firstLines(r.stderr)}`, { stderr: r.stderr })
    }
    return { target, rules: parseAcceptRules(r.stdout, target) }
  }

  async observe(accept?: ChainRef): Promise<NftObserved> {
    const [table, acc] = await Promise.all([this.readTable(), accept ? this.readAcceptChain(accept) : undefined])
    return acc ? { table, accept: acc } : { table }
  }

  /** Apply one transaction atomically; an empty transaction runs nothing. */
  async apply(tx: NftTransaction): Promise<void> {
    if (tx.ops.length === 0) return
    const file = join(this.#tmp, `porter-nft-${process.pid}-${randomBytes(4).toString('hex')}.json`)
    await writeFile(file, JSON.stringify(renderTransaction(tx)), { mode: 0o600, flag: 'wx' })
    try {
      this.transactions++
      const r = await this.#run(['-j', '-f', file])
      if (r.code !== 0) {
        throw new FirewallError(this.#nft, `nftables transaction failed (nothing was changed): ${firstLines(r.stderr)}\n  transaction: ${describeTransaction(tx).slice(0, 8).join('; ')}`, { stderr: r.stderr })
      }
    } finally {
      await unlink(file).catch(() => undefined)
    }
  }
}
