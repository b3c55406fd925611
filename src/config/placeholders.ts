// Spring placeholders in configured values: `${NAME}`, `${NAME:default}`, nested defaults, `\${` for a literal.

/** The value with every placeholder replaced, or the names that had neither a value nor a default. */
export type PlaceholderResult = { value: string, missing?: undefined } | { value?: undefined, missing: string[] }

/** Looks up another setting by its dotted name (`server.port`), as the effective configuration holds it. */
export type SettingLookup = (name: string) => string | undefined

/**
 * Replaces `${NAME}` and `${NAME:default}` from the environment and, for lower-case dotted names, from the
 * other settings (`${server.port}` is the effective port, `--port` and `SERVER_PORT` included), as Spring does.
 * The default may be empty or hold another
 * placeholder (`${A:${B:x}}`); only the first `:` separates name and default, so `${URL:http://h:80}` works.
 * NAME is looked up in the environment as written, then as a setting (`settings`), then in Spring's environment
 * form (`key.store-pw` -> `KEY_STORE_PW`).
 * Resolved values are not scanned again. `\${` stands for a literal `${`; an unclosed `${` is kept as written.
 */
export function resolvePlaceholders (text: string, env: NodeJS.ProcessEnv, settings?: SettingLookup): PlaceholderResult {
  if (!text.includes('${')) return { value: text }
  const missing: string[] = []
  const value = substitute(text, { env, settings }, missing)
  return missing.length > 0 ? { missing } : { value }
}

interface Sources { env: NodeJS.ProcessEnv, settings: SettingLookup | undefined }

function substitute (text: string, env: Sources, missing: string[]): string {
  let out = ''
  let i = 0
  while (i < text.length) {
    if (text.startsWith('\\${', i)) {
      out += '${'
      i += 3
      continue
    }
    if (!text.startsWith('${', i)) {
      out += text[i]
      i++
      continue
    }
    const end = closingBrace(text, i + 2)
    if (end === -1) {
      out += text.slice(i)
      break
    }
    out += resolveOne(text.slice(i + 2, end), env, missing)
    i = end + 1
  }
  return out
}

function resolveOne (inner: string, env: Sources, missing: string[]): string {
  const colon = inner.indexOf(':')
  const name = (colon === -1 ? inner : inner.slice(0, colon)).trim()
  const found = lookup(name, env)
  if (found !== undefined) return found
  if (colon !== -1) return substitute(inner.slice(colon + 1), env, missing)
  missing.push(name)
  return ''
}

function lookup (name: string, { env, settings }: Sources): string | undefined {
  if (env[name] !== undefined) return env[name]
  // Settings are named in lower case (Spring's canonical form); PUBLIC_URL stays an environment variable.
  const setting = settings !== undefined && name === name.toLowerCase() ? settings(name) : undefined
  if (setting !== undefined) return setting
  const underscored = name.replace(/[.-]/g, '_')
  for (const candidate of [underscored, name.toUpperCase(), underscored.toUpperCase()]) {
    const value = env[candidate]
    if (value !== undefined) return value
  }
  return undefined
}

/** Index of the `}` closing the placeholder whose body starts at `from`, skipping nested `${...}`; -1 if none. */
function closingBrace (text: string, from: number): number {
  let depth = 0
  for (let i = from; i < text.length; i++) {
    if (text.startsWith('${', i)) {
      depth++
      i++
    } else if (text[i] === '}') {
      if (depth === 0) return i
      depth--
    }
  }
  return -1
}
