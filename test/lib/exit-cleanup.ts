// Things that must be cleaned up even when the test process ends abruptly (exit, SIGINT,
// SIGTERM, SIGHUP): network namespaces, API servers. One set of process handlers for all.
export interface SyncCleanup { cleanupSync(): void }

const live = new Set<SyncCleanup>()
let installed = false

function install(): void {
  if (installed) return
  installed = true
  process.on('exit', () => { for (const x of [...live]) x.cleanupSync() })
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      for (const x of [...live]) x.cleanupSync()
      process.exit(128 + ({ SIGHUP: 1, SIGINT: 2, SIGTERM: 15 } as const)[sig])
    })
  }
}

/** Clean `x` up at process exit unless forgotten first. */
export function cleanupAtExit(x: SyncCleanup): void {
  install()
  live.add(x)
}

export function forgetAtExit(x: SyncCleanup): void {
  live.delete(x)
}
