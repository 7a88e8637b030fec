// esbuild plugin for js-yaml, shared by build/build.mjs and its test
// (test/unit/pure-js-yaml.test.ts).
//
// js-yaml ships as one ES module whose top level builds every tag and schema it has (YAML 1.1,
// JSON, the dumper's) and the dumper's regular expressions. esbuild keeps each such call, as it
// cannot tell it has no side effects; Porter loads with CORE_SCHEMA and never dumps. Each
// top-level `var X = <expression>` is wrapped in a pure IIFE, so esbuild drops those nothing
// uses: js-yaml in the CLI bundle 76 -> 59 KB, and `porter validate` no longer builds them
// (~1.7 ms of its start-up). The module is read with acorn (an ES parser), not by text
// patterns; a top level without dozens of such declarations, as a new js-yaml might have, fails
// the build rather than pass through unchanged.
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)

/** initializers that cannot have side effects, left as they are */
const PLAIN = new Set(['Literal', 'ArrowFunctionExpression', 'FunctionExpression', 'Identifier', 'TemplateLiteral'])

/** `src` (an ES module) with each top-level `var X = <expression>` as an IIFE annotated pure, `(() => (<expression>))()` */
function markTopLevelPure(src, file = 'module') {
  const acorn = require('acorn')
  const edits = []
  for (const st of acorn.parse(src, { ecmaVersion: 'latest', sourceType: 'module' }).body) {
    if (st.type !== 'VariableDeclaration') continue
    for (const d of st.declarations) if (d.init && !PLAIN.has(d.init.type)) edits.push([d.init.start, d.init.end])
  }
  if (edits.length < 20) throw new Error(`${file}: ${edits.length} top-level declarations to mark pure, expected dozens (has js-yaml's layout changed?)`)
  let out = src
  for (const [start, end] of edits.reverse()) out = `${out.slice(0, start)}/* @__PURE__ */ (() => (${out.slice(start, end)}))()${out.slice(end)}`
  return out
}

const JS_YAML_MODULE = /[\\/]node_modules[\\/]js-yaml[\\/]dist[\\/]js-yaml\.mjs$/

export function pureJsYamlPlugin() {
  return {
    name: 'pure-js-yaml',
    setup(b) {
      b.onLoad({ filter: JS_YAML_MODULE }, (a) => ({ contents: markTopLevelPure(readFileSync(a.path, 'utf8'), a.path), loader: 'js' }))
    },
  }
}
