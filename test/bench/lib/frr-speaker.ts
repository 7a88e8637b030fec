// FRR bgpd as the *speaker* of the push lab (issue 10: "against gobgpd, FRR bgpd and the blaster
// in one run"). zebra + bgpd (test/e2e/lib/frr.ts's Frr: user frr, its own directory, vty and
// zserv sockets, no TCP vty) in the speaker namespace `s`, AS SPEAKER_AS, router id SPEAKER_IP,
// eBGP to the router BIRD like gobgpd and porter (active, hold HOLD, no ADD-PATH).
//
// The N /32s: blackhole routes in `s`'s kernel table (one `ip -batch`, before zebra starts),
// which zebra reads at start-up and bgpd takes with `redistribute kernel`. Measured here at 100k
// (zebra + bgpd, no peer up): this way bgpd has them all ~5 s after zebra starts, and the
// withdrawal is one command. The alternatives: `network` statements in bgpd.conf (with
// `no bgp network import-check`) load in ~2 s, but have no one-step removal: an operator's
// reload of a config without them is 100k `no network` lines (`vtysh -f`: 6.5 s before bgpd's
// RIB is even empty); staticd (`ip route ... blackhole` + `redistribute static`) took more
// than 100 s for 10k routes (its northbound config path) and was dropped. zebra installs
// nothing for these routes (they are the kernel's already), so, like porter and gobgpd, the
// speaker does no FIB work; the routes are flushed from `s` when the run ends.
// Next hop: bgpd sets its session address (SPEAKER_IP) as the next hop of an eBGP export, so
// the router sees the same next hop as from the other speakers (checked on one route).
// Tuning: `coalesce-time 0` (the update group's default 1 s wait before a new peer's first
// UPDATE, as in the anchor figures) and `advertisement-interval 0` (no MRAI on the withdrawal).
//
// push:     bgpd starts with the neighbour `shutdown`; once bgpd's table holds all N, `no neighbor
//           ... shutdown` -> the router's Established -> the router has all N. The speaker's own
//           Established is bgpd's `%ADJCHANGE ... Up` log line (microsecond timestamps; the log
//           is read after the push, so nothing polls bgpd meanwhile).
// withdraw: "the operator removes all VIPs": `no redistribute kernel` in `address-family ipv4
//           unicast`, one vtysh config change -> the router has 0. The session must survive
//           (bgpd's connectionsEstablished stays 1; the router's "since" does not move).
// memory:   bgpd's VmRSS after the push and its VmHWM at the end (the speaker's figure); zebra's
//           VmHWM (it holds the 100k kernel routes: a cost of this way of loading) in the notes.
import { readFileSync, writeFileSync, chownSync, statSync } from 'node:fs'
import { join } from 'node:path'
import type { Lab } from '../../e2e/lib/netns.ts'
import { waitFor } from '../../e2e/lib/netns.ts'
import { Frr, frrIds, renderBgpdConfig, type FrrSpec } from '../../e2e/lib/frr.ts'
import type { BirdCtl } from './birdctl.ts'
import { benchPrefixes } from './prefixes.ts'
import {
  type PushSetup, type RunResult, HOLD, PROTO, ROUTER_AS, ROUTER_IP, SPEAKER_AS, SPEAKER_IP,
  now, sleep, pollImported, vm, rx, delta, startOf, birdSince, withLogTail,
} from './push-lab.ts'

const ROUTES = '198.18.0.0/15' // lib/prefixes.ts's range: flushed from `s` at the end

function speakerSpec(s: string): FrrSpec {
  return {
    ns: s, as: SPEAKER_AS, routerId: SPEAKER_IP,
    extra: ['coalesce-time 0', 'bgp log-neighbor-changes'],
    peers: [{
      address: ROUTER_IP, as: ROUTER_AS, passive: false, holdTime: HOLD, addPathRx: false,
      extra: ['advertisement-interval 0', 'shutdown'],
    }],
  }
}

/** Frr's bgpd.conf with microsecond log timestamps and `redistribute kernel` in the IPv4 family. */
function bgpdConfig(frr: Frr): string {
  const base = renderBgpdConfig(frr.spec, join(frr.dir, 'bgpd.log'))
  const text = base
    .replace('hostname bgpd\n', 'hostname bgpd\nlog timestamp precision 6\n')
    .replace(' address-family ipv4 unicast\n', ' address-family ipv4 unicast\n  redistribute kernel\n')
  if (!text.includes('  redistribute kernel\n') || !text.includes('log timestamp precision 6')) throw new Error('could not add redistribute kernel to the speaker bgpd.conf')
  return text
}

/**
 * Epoch ms of bgpd's `%ADJCHANGE: neighbor ROUTER_IP ... Up` log line ("2026/12/06 08:30:01.123456",
 * local time) written after byte `from` (the log is the same file in every round).
 */
function adjUp(logFile: string, from: number): number | undefined {
  let text = ''
  try { text = readFileSync(logFile).subarray(from).toString('utf8') } catch { return undefined }
  const line = text.split('\n').find((l) => l.includes('%ADJCHANGE') && l.includes(ROUTER_IP) && /\bUp\b/.test(l))
  const m = line && /^(\d{4})\/(\d\d)\/(\d\d) (\d\d:\d\d:\d\d(?:\.\d+)?)/.exec(line)
  return m ? birdSince(`${m[1]}-${m[2]}-${m[3]} ${m[4]}`) : undefined
}

const logSize = (f: string): number => { try { return statSync(f).size } catch { return 0 } }

export async function runFrrSpeaker(setup: PushSetup, lab: Lab, r: string, s: string, ctl: BirdCtl): Promise<RunResult> {
  const notes: string[] = []
  const frr = new Frr(lab, speakerSpec(s), 'frr-speaker')
  const bgpdConf = join(frr.dir, 'bgpd.conf')
  const { uid, gid } = frrIds()
  writeFileSync(bgpdConf, bgpdConfig(frr), { mode: 0o640 })
  chownSync(bgpdConf, uid, gid)
  const bgpdLog = join(frr.dir, 'bgpd.log')
  const hosts = benchPrefixes(setup.n)
  const t0 = now()
  try {
    await lab.exec(s, ['ip', '-batch', '-'], { input: hosts.map((h) => `route add blackhole ${h}\n`).join(''), timeoutMs: 120_000 })
    const tIp = now()
    await frr.start()
    const tStart = now()
    const count = async (): Promise<number> => {
      const j = await frr.json<{ ipv4Unicast?: { totalAdvertisements?: number }[] }>('show bgp ipv4 unicast statistics json')
      return j.ipv4Unicast?.[0]?.totalAdvertisements ?? 0
    }
    await waitFor(async () => ((await count()) >= setup.n ? true : undefined),
      { timeoutMs: 180_000, intervalMs: 50, what: `the speaker bgpd's table with ${setup.n} redistributed kernel routes` })
    const prepare = now() - t0
    notes.push(`ip -batch (${setup.n} blackhole routes) ${(tIp - t0).toFixed(0)} ms, zebra + bgpd up ${(tStart - tIp).toFixed(0)} ms, bgpd's table complete after ${prepare.toFixed(0)} ms in all`)
    const running = (await frr.vtysh('bgpd', ['show running-config'])).stdout
    for (const want of ['coalesce-time 0', 'redistribute kernel', `neighbor ${ROUTER_IP} advertisement-interval 0`]) {
      if (!running.includes(want)) throw new Error(`the speaker bgpd's running config lacks "${want}"`)
    }
    const logFrom = logSize(bgpdLog)
    const rx0 = await rx(lab, r)
    await frr.configure([`router bgp ${SPEAKER_AS}`, `no neighbor ${ROUTER_IP} shutdown`])
    const done = await pollImported(ctl, (k) => k >= setup.n, `${setup.n} routes imported from the FRR speaker`, setup.pollMs)
    const rx1 = await rx(lab, r)
    const rssAfter = vm(frr.bgpdPid!).rssKB / 1024
    const spEst = adjUp(bgpdLog, logFrom)
    notes.push(`${done.polls} polls until all imported`)
    if (spEst === undefined) notes.push('no %ADJCHANGE Up line in the bgpd log: push* unknown')
    const start = startOf(done.since, spEst ?? NaN, notes)
    const nh = await ctl.cmd(`show route ${hosts[0]} protocol ${PROTO}`)
    if (!nh.some((l) => l.includes(`via ${SPEAKER_IP}`))) throw new Error(`the router's route ${hosts[0]} from the FRR speaker is not via ${SPEAKER_IP}: ${nh.join(' | ')}`)
    await sleep(500) // both sides idle before the withdrawal
    const nb = async () => (await frr.json<Record<string, { bgpState?: string; connectionsEstablished?: number }>>(`show bgp neighbors ${ROUTER_IP} json`))[ROUTER_IP]
    const before = await nb()
    const rx2 = await rx(lab, r)
    const tW = now()
    let tConf = NaN
    const conf = frr.configure([`router bgp ${SPEAKER_AS}`, 'address-family ipv4 unicast', 'no redistribute kernel']).then(() => { tConf = now() })
    const gone = await pollImported(ctl, (k) => k === 0, '0 routes from the FRR speaker', setup.pollMs)
    await conf
    const rx3 = await rx(lab, r)
    notes.push(`vtysh \`no redistribute kernel\` returned ${(tConf - tW).toFixed(0)} ms after it was started; the router had 0 after ${(gone.t - tW).toFixed(0)} ms`)
    const after = await nb()
    const rAfter = await ctl.protocol(PROTO)
    const moved = Math.abs((birdSince(rAfter.since) ?? NaN) - (birdSince(done.since) ?? NaN))
    if (after?.bgpState !== 'Established' || after.connectionsEstablished !== before?.connectionsEstablished || rAfter.state !== 'Established' || !(moved < 100)) {
      throw new Error(`the BGP session did not survive \`no redistribute kernel\`: speaker ${after?.bgpState} (${after?.connectionsEstablished} connections, was ${before?.connectionsEstablished}), ` +
        `router ${rAfter.state} since ${rAfter.since} (was ${done.since}); see ${bgpdLog}`)
    }
    if ((await count()) !== 0) throw new Error('the speaker bgpd still has routes after `no redistribute kernel`')
    const bgpd = vm(frr.bgpdPid!)
    const zebra = vm(frr.zebraPid!)
    notes.push(`bgpd RSS after the push ${rssAfter.toFixed(1)} MiB, VmHWM ${(bgpd.hwmKB / 1024).toFixed(1)} MiB; zebra (holds the ${setup.n} kernel routes) VmHWM ${(zebra.hwmKB / 1024).toFixed(1)} MiB, RSS ${(zebra.rssKB / 1024).toFixed(1)} MiB; bgpd + zebra VmHWM ${((bgpd.hwmKB + zebra.hwmKB) / 1024).toFixed(1)} MiB`)
    return {
      speaker: 'FRR',
      round: 0,
      push: done.t - start,
      pushFromSpeaker: spEst === undefined ? undefined : done.t - spEst,
      withdraw: gone.t - tW,
      peakRss: Math.max(bgpd.hwmKB / 1024, rssAfter), // VmHWM lags VmRSS (the kernel syncs per-thread RSS counters lazily)
      rss: rssAfter,
      peakRssZebra: zebra.hwmKB / 1024,
      wire: { push: delta(rx0, rx1), withdraw: delta(rx2, rx3) },
      prepare,
      notes,
    }
  } catch (e) {
    throw withLogTail(e, bgpdLog, 'speaker bgpd')
  } finally {
    await frr.stop()
    // the namespace is the lab's and outlives this run: leave it without the routes
    await lab.exec(s, ['ip', 'route', 'flush', 'root', ROUTES], { allowFail: true })
  }
}
