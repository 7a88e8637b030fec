// BIRD 2 as the *speaker* of the push lab (issue 10's withdraw-all target: "at most the BIRD
// speaker's time in the same run"). A second BIRD in the speaker namespace `s` (its own directory,
// control socket `-s`, pid file and log: test/e2e/lib/bird.ts's Bird with another name), AS
// SPEAKER_AS, router id SPEAKER_IP, eBGP to the router BIRD like gobgpd and porter.
//
// The N /32s live in a `protocol static` as `blackhole` routes: BIRD sets the next hop of an eBGP
// export to its own address, so the router sees next hop SPEAKER_IP, as from the other speakers.
// The speaker's kernel protocols are disabled: it installs nothing into its own FIB (neither
// porter nor gobgpd does), so its time is BGP work only.
//
// push:     the config is loaded with the BGP protocol `disabled on` (the static routes are in
//           BIRD's table before any session, as gobgpd's admin-down + MRT inject); `enable` over
//           the speaker's control socket -> the router's Established -> the router has all N.
// withdraw: "the operator removes all VIPs": the same config rewritten with an empty static
//           protocol (and the BGP protocol no longer `disabled`), then `configure` over the control
//           socket -> the router has 0. The BGP session must survive the reconfiguration (checked:
//           same "since" on the speaker), so the routes leave as withdrawals, not by a reset.
import { writeFileSync } from 'node:fs'
import type { Lab } from '../../e2e/lib/netns.ts'
import { waitFor } from '../../e2e/lib/netns.ts'
import { Bird, renderBirdConfig, type BirdSpec } from '../../e2e/lib/bird.ts'
import { BirdCtl } from './birdctl.ts'
import { benchPrefixes } from './prefixes.ts'
import {
  type PushSetup, type RunResult, HOLD, PROTO, ROUTER_AS, ROUTER_IP, SPEAKER_AS, SPEAKER_IP,
  now, sleep, pollImported, vm, rx, delta, startOf, birdSince, withLogTail,
} from './push-lab.ts'

const BGP = 'to_router'
const STATIC = 'vips'

function speakerSpec(s: string, disabled: boolean): BirdSpec {
  return {
    ns: s, as: SPEAKER_AS, routerId: SPEAKER_IP,
    extra: ['timeformat protocol "%F %T.%6f";'],
    kernelExtra: ['disabled on;'],
    peers: [{
      name: BGP, address: ROUTER_IP, as: ROUTER_AS, passive: false, holdTime: HOLD, addPathRx: false,
      extra: disabled ? ['disabled on;'] : [],
    }],
  }
}

/** The speaker BIRD's config: the common one (Bird's renderer) plus the static protocol holding `hosts`. */
function config(bird: Bird, spec: BirdSpec, hosts: string[]): string {
  const L = [renderBirdConfig(spec, bird.logFile), `protocol static ${STATIC} {`, '  ipv4;']
  for (const h of hosts) L.push(`  route ${h} blackhole;`)
  L.push('}', '')
  return L.join('\n')
}

export async function runBirdSpeaker(setup: PushSetup, lab: Lab, r: string, s: string, ctl: BirdCtl): Promise<RunResult> {
  const notes: string[] = []
  const bird = new Bird(lab, speakerSpec(s, true), 'bird-speaker')
  const hosts = benchPrefixes(setup.n)
  writeFileSync(bird.configFile, config(bird, speakerSpec(s, true), hosts))
  const t0 = now()
  await bird.start()
  let sctl: BirdCtl | undefined
  try {
    sctl = await new BirdCtl(bird.socket).open()
    const sc = sctl
    // the static routes are in BIRD's table
    await waitFor(async () => ((await sc.protocol(STATIC)).imported >= setup.n ? true : undefined),
      { timeoutMs: 120_000, intervalMs: 20, what: `the speaker BIRD's static protocol with ${setup.n} routes` })
    const prepare = now() - t0
    notes.push(`bird -c (config with ${setup.n} static routes) -> static protocol has them all: ${prepare.toFixed(0)} ms`)
    const rx0 = await rx(lab, r)
    const en = await sc.cmd(`enable ${BGP}`)
    if (!en.some((l) => /enabled/i.test(l))) throw new Error(`enable ${BGP}: ${en.join(' | ')}`)
    const done = await pollImported(ctl, (k) => k >= setup.n, `${setup.n} routes imported from the BIRD speaker`, setup.pollMs)
    const rx1 = await rx(lab, r)
    const sp = await sc.protocol(BGP)
    const spEst = birdSince(sp.since)
    notes.push(`${done.polls} polls until all imported`)
    const start = startOf(done.since, spEst ?? NaN, notes)
    await sleep(500) // both sides idle before the withdrawal
    // withdraw all: the config without routes, `configure`
    writeFileSync(bird.configFile, config(bird, speakerSpec(s, false), []))
    const rx2 = await rx(lab, r)
    const tW = now()
    let tConf = NaN
    const conf = sc.cmd('configure').then((lines) => { tConf = now(); return lines })
    const gone = await pollImported(ctl, (k) => k === 0, '0 routes from the BIRD speaker', setup.pollMs)
    const confReply = await conf
    const rx3 = await rx(lab, r)
    if (!confReply.some((l) => /^0003 /.test(l))) throw new Error(`speaker BIRD configure: ${confReply.join(' | ')}`)
    notes.push(`\`configure\` (empty static protocol) replied "${confReply.at(-1)!.slice(5)}" ${(tConf - tW).toFixed(0)} ms after it was sent; the router had 0 after ${(gone.t - tW).toFixed(0)} ms`)
    // (BIRD 2.0.12 moves the protocol's "since" by a few microseconds on configure; a session
    // reset would take at least the 1 s connect delay and show in the router's "since" too)
    const after = await sc.protocol(BGP)
    const rAfter = await ctl.protocol(PROTO)
    const moved = (a: string, b: string) => Math.abs((birdSince(a) ?? NaN) - (birdSince(b) ?? NaN))
    if (after.state !== 'Established' || rAfter.state !== 'Established' || !(moved(after.since, sp.since) < 100) || !(moved(rAfter.since, done.since) < 100)) {
      throw new Error(`the BGP session did not survive the speaker BIRD's configure: speaker ${after.state} since ${after.since} (was ${sp.since}), ` +
        `router ${rAfter.state} since ${rAfter.since} (was ${done.since}); see ${bird.logFile}`)
    }
    if ((await sc.protocol(STATIC)).imported !== 0) throw new Error('the speaker BIRD still has static routes after configure')
    const mem = vm(bird.pid!)
    return {
      speaker: 'BIRD',
      round: 0,
      push: done.t - start,
      pushFromSpeaker: spEst === undefined ? undefined : done.t - spEst,
      withdraw: gone.t - tW,
      peakRss: mem.hwmKB / 1024,
      wire: { push: delta(rx0, rx1), withdraw: delta(rx2, rx3) },
      prepare,
      notes,
    }
  } catch (e) {
    throw withLogTail(e, bird.logFile, 'speaker BIRD')
  } finally {
    sctl?.close()
    await bird.stop()
  }
}
