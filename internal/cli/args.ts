// The CLI's flags: `--name value`, `--name=value`, `--flag`, `-h`, `--` and nothing else. Pure.
// node:util's parseArgs did this with two modules loaded on each start (~1.8 ms in `node -e`;
// test/bench/README.md "Start-up: the flags, one isIP, js-yaml's unused half").
// Porter takes no positional arguments, so any is an error, as is an unknown flag.

export interface FlagSpec {
  type: 'string' | 'boolean'
  /** one letter: `-h` */
  short?: string
}

export type FlagValues = Record<string, string | boolean>

/** The flags' values (the last of a repeated flag wins), or the first error, worded for `porter: <cmd>: ...`. */
export function parseFlags(args: readonly string[], flags: Readonly<Record<string, FlagSpec>>): { values: FlagValues } | { error: string } {
  const values: FlagValues = Object.create(null) as FlagValues
  const known = (name: string): FlagSpec | undefined => (Object.hasOwn(flags, name) ? flags[name] : undefined)
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!
    if (a === '--') {
      if (i + 1 < args.length) return { error: `unexpected argument ${JSON.stringify(args[i + 1])} (porter takes flags only)` }
      break
    }
    let name: string
    let inline: string | undefined
    if (a.startsWith('--') && a.length > 2) {
      const eq = a.indexOf('=')
      name = eq < 0 ? a.slice(2) : a.slice(2, eq)
      inline = eq < 0 ? undefined : a.slice(eq + 1)
    } else if (a.length === 2 && a[0] === '-' && a[1] !== '-') {
      const found = Object.keys(flags).find((k) => flags[k]!.short === a[1])
      if (found === undefined) return { error: `unknown flag ${a}` }
      name = found
    } else {
      return { error: a.startsWith('-') && a !== '-' ? `unknown flag ${a}` : `unexpected argument ${JSON.stringify(a)} (porter takes flags only)` }
    }
    const spec = known(name)
    if (!spec) return { error: `unknown flag --${name}` }
    if (spec.type === 'boolean') {
      if (inline !== undefined) return { error: `--${name} takes no value` }
      values[name] = true
      continue
    }
    if (inline === undefined) {
      const next = args[i + 1]
      // a flag where the value should be is a forgotten value, as node:util's parseArgs reads it
      if (next === undefined || (next.length > 1 && next[0] === '-')) return { error: `--${name} needs a value (--${name} VALUE or --${name}=VALUE)` }
      inline = next
      i++
    }
    values[name] = inline
  }
  return { values }
}
