// A persistent client for BIRD's control socket (the protocol birdc speaks), so the benchmark can
// poll BIRD every few milliseconds without spawning `ip netns exec birdc` each time (a spawn costs
// more CPU than BIRD's answer, and on two cores that CPU would be taken from the processes timed).
//
// Protocol: every reply line starts with a 4-digit code and '-' (more lines follow) or ' ' (last
// line); a line starting with a space continues the previous code. The first line after connect
// is the greeting `0001 BIRD x.y.z ready.`. A Unix socket is a file, so it is reachable from the
// host even though BIRD runs in a network namespace.
import { connect, type Socket } from 'node:net'

export class BirdCtl {
  private sock: Socket | undefined
  private buf = ''
  private waiting: { resolve: (lines: string[]) => void; reject: (e: Error) => void; lines: string[] } | undefined

  constructor(readonly path: string) {}

  async open(): Promise<this> {
    const sock = connect(this.path)
    this.sock = sock
    sock.setEncoding('utf8')
    sock.on('data', (d: string) => this.onData(d))
    sock.on('error', (e) => this.fail(e))
    sock.on('close', () => this.fail(new Error(`BIRD control socket ${this.path} closed`)))
    await this.reply() // greeting
    return this
  }

  private fail(e: Error): void {
    const w = this.waiting
    this.waiting = undefined
    w?.reject(e)
  }

  private onData(d: string): void {
    this.buf += d
    let nl: number
    while ((nl = this.buf.indexOf('\n')) >= 0) {
      const line = this.buf.slice(0, nl)
      this.buf = this.buf.slice(nl + 1)
      const w = this.waiting
      if (!w) continue
      w.lines.push(line)
      if (/^\d{4} /.test(line)) {
        this.waiting = undefined
        w.resolve(w.lines)
      }
    }
  }

  private reply(): Promise<string[]> {
    if (this.waiting) throw new Error('BirdCtl: one command at a time')
    return new Promise((resolve, reject) => { this.waiting = { resolve, reject, lines: [] } })
  }

  /** Send one command, return its reply lines (codes included). */
  async cmd(command: string): Promise<string[]> {
    if (!this.sock) throw new Error('BirdCtl: not open')
    const p = this.reply()
    this.sock.write(`${command}\n`)
    return p
  }

  /**
   * `show protocols all NAME`: the BGP state word (first word of the Info column, e.g.
   * "Established"), the whole Info text, the "Since" column and the channel's imported count.
   * Columns: Name Proto Table State Since Info; Since holds a space ("2025-01-02 03:04:05.123456"
   * with the bench's timeformat), so the line is cut with a pattern, not by whitespace.
   */
  async protocol(name: string): Promise<{ state: string; info: string; imported: number; since: string }> {
    const lines = await this.cmd(`show protocols all ${name}`)
    let info = ''
    let since = ''
    let imported = 0
    for (const l of lines) {
      const head = /^1002-(\S+)\s+\S+\s+\S+\s+\S+\s+(\d{4}-\d\d-\d\d \S+|\S+)\s*(.*)$/.exec(l)
      if (head && head[1] === name) {
        since = head[2] ?? ''
        info = (head[3] ?? '').trim()
      }
      const r = /Routes:\s+(\d+) imported/.exec(l)
      if (r) imported = Number(r[1])
    }
    return { state: info.split(/\s+/)[0] || 'unknown', info, imported, since }
  }

  close(): void {
    this.sock?.destroy()
    this.sock = undefined
  }
}
