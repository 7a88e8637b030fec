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
import { setFlagsFromString } from 'node:v8'

export function daemonHeapPolicy(env: Readonly<Record<string, string | undefined>> = process.env): void {
  if (/--(max-)?semi-space/.test(env.NODE_OPTIONS ?? '')) return
  setFlagsFromString('--semi-space-growth-factor=1')
}
