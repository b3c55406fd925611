// Summarises a V8 .cpuprofile (`node --cpu-prof`): top functions by self time, and self time by package or source file.
// Usage: node dist/bench/profile-summary.js FILE.cpuprofile [--top N]
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'

interface ProfileNode {
  id: number
  callFrame: { functionName: string, url: string, lineNumber: number }
  children?: number[]
}

interface CpuProfile {
  nodes: ProfileNode[]
  startTime: number
  endTime: number
  samples: number[]
  timeDeltas: number[]
}

/** Self time per function and per package, in ms and as a share of the profile (idle and GC included). */
export interface ProfileSummary {
  totalMs: number
  functions: Array<{ name: string, where: string, ms: number, share: number }>
  packages: Array<{ name: string, ms: number, share: number }>
}

/** `fastify`, `node:internal/...` or `src/server/routes` style grouping of a frame's URL. */
export function packageOf (url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)'
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)
  if (modules !== null) return modules[1]!
  if (url.startsWith('node:')) return url.replace(/^node:internal\//, 'node:').replace(/\/[^/]*$/, '')
  const own = /\/(src|dist\/src)\/(.+)$/.exec(url)
  if (own !== null) return `src/${own[2]!.replace(/\.js$/, '.ts')}`
  return url
}

/** Aggregates self time from the samples (each sample's delta is charged to its node). */
export function summarizeProfile (profile: CpuProfile, top = 25): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const self = new Map<number, number>()
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0))
  }
  const total = [...self.values()].reduce((a, b) => a + b, 0) / 1000
  const functions = new Map<string, { name: string, where: string, ms: number }>()
  const packages = new Map<string, number>()
  for (const [id, micros] of self) {
    const frame = byId.get(id)!.callFrame
    const where = frame.url === '' ? '' : `${frame.url.replace(/^.*\/(node_modules|src)\//, '$1/')}:${frame.lineNumber + 1}`
    const key = `${frame.functionName}@${where}`
    const entry = functions.get(key) ?? { name: frame.functionName === '' ? '(anonymous)' : frame.functionName, where, ms: 0 }
    entry.ms += micros / 1000
    functions.set(key, entry)
    const pkg = packageOf(frame.url, frame.functionName)
    packages.set(pkg, (packages.get(pkg) ?? 0) + micros / 1000)
  }
  const share = (ms: number): number => Math.round(ms / total * 1000) / 10
  return {
    totalMs: Math.round(total),
    functions: [...functions.values()]
      .sort((a, b) => b.ms - a.ms)
      .slice(0, top)
      .map((f) => ({ ...f, ms: Math.round(f.ms), share: share(f.ms) })),
    packages: [...packages].sort((a, b) => b[1] - a[1]).slice(0, top).map(([name, ms]) => ({ name, ms: Math.round(ms), share: share(ms) }))
  }
}

function main (): void {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string' } } })
  const file = positionals[0]
  if (file === undefined) throw new Error('usage: profile-summary FILE.cpuprofile [--top N]')
  const summary = summarizeProfile(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, Number(values.top ?? 25))
  const out = [`total ${summary.totalMs} ms`, '', 'self time by function:']
  for (const f of summary.functions) out.push(`${String(f.share).padStart(5)}%  ${String(f.ms).padStart(6)} ms  ${f.name}  ${f.where}`)
  out.push('', 'self time by package / file:')
  for (const p of summary.packages) out.push(`${String(p.share).padStart(5)}%  ${String(p.ms).padStart(6)} ms  ${p.name}`)
  process.stdout.write(`${out.join('\n')}\n`)
}

if (process.argv[1]?.replace(/\.ts$/, '.js').endsWith('profile-summary.js') === true) main()
