// V8 heap policy of the long-running modes (`porter controller`, `porter agent`), set before
// the config is read.
//
// The young generation: V8 grows each semi-space from 1 MiB up to 16 MiB when a burst of
// allocation (a 100k-VIP config, a full table push) runs, and keeps it at that size for the life
// of the process: about 45 MiB of RSS that an idle daemon never gives back (the memory reducer
// did not shrink it within minutes here). Growth factor 1 keeps it at 1 MiB; a burst then costs
// more scavenges, which test/bench/binary.ts measures (push and reload times, RSS and peak).
// `--max-semi-space-size` would be the direct flag, but it is read only when the heap is made:
// set at run time it does nothing, while the growth factor is read at each resize. An operator
// who sets a semi-space flag in NODE_OPTIONS keeps it: then this does nothing.
import { getHeapStatistics, setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

export function daemonHeapPolicy(env: Readonly<Record<string, string | undefined>> = process.env): void {
  if (/--(max-)?semi-space/.test(env.NODE_OPTIONS ?? '')) return
  setFlagsFromString('--semi-space-growth-factor=1')
}

/**
 * Give memory back after a burst. A burst (a 100k-VIP config read, a full table push, a reload)
 * leaves tens of MiB of RSS in pages V8 no longer needs and keeps until its memory reducer runs,
 * seconds to minutes later in an idle daemon. Every `everyMs` this looks at the RSS; when it is
 * more than `growthBytes` above its lowest since the last collection and the burst is over (the
 * process used under a tenth of the interval in CPU and its heap in use stopped growing), it runs
 * one full collection (~30-40 ms at 100k VIPs), after which V8 releases the emptied pages. Never
 * during a burst: a full collection in the middle of a 100k-route push slowed it by a third. A daemon whose memory does not grow is never
 * touched. The timer does not keep the process alive. Returns a stop function.
 */
export function startHeapTrimmer(everyMs = 500, growthBytes = 16 * 1024 * 1024): () => void {
  setFlagsFromString('--expose-gc')
  const gc = runInNewContext('gc') as () => void
  let low = process.memoryUsage.rss()
  let lastUsed = Infinity
  let lastCpu = process.cpuUsage()
  const timer = setInterval(() => {
    const rss = process.memoryUsage.rss()
    const used = getHeapStatistics().used_heap_size
    const cpu = process.cpuUsage(lastCpu)
    lastCpu = process.cpuUsage()
    const settled = used <= lastUsed + 1024 * 1024 && (cpu.user + cpu.system) / 1000 < everyMs / 10
    lastUsed = used
    low = Math.min(low, rss)
    if (settled && rss > low + growthBytes) {
      gc()
      low = rss // the pages go back over the next moments; `low` follows them down
      lastUsed = getHeapStatistics().used_heap_size
    }
  }, everyMs)
  timer.unref()
  return () => clearInterval(timer)
}
