// npm "postinstall" of the root package (runs after `npm ci` / `npm install`):
// patch dependencies (patches/, patch-package), then compile the native addons from that
// patched source (see build/native-addons.mjs). Fails the install when either step fails.
import { applyPatches, ensureAddons } from './native-addons.mjs'

const log = (s) => console.error(`porter postinstall: ${s}`)
try {
  applyPatches({ log })
  const built = ensureAddons({ log })
  for (const [name, file] of Object.entries(built)) log(`${name} addon: ${file}`)
} catch (e) {
  log(e instanceof Error ? e.message : String(e))
  process.exit(1)
}
