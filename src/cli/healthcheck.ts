// `hermod-broker healthcheck`: asks the local broker's readiness endpoint; exit 0 when UP (Docker HEALTHCHECK).
import { parseArgs } from 'node:util'
import { Agent, request } from 'undici'
import { loadConfig } from '../config/load.js'

/** Exit code 0 when readiness answers 200 within 3 s, 1 otherwise. Loopback only, so the certificate is not checked. */
export async function runHealthcheck (args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { config: { type: 'string', short: 'c' } } })
  const { config } = await loadConfig(values.config === undefined ? {} : { file: values.config })
  const scheme = config.server.ssl.enabled ? 'https' : 'http'
  const url = `${scheme}://127.0.0.1:${config.server.port}${config.server.contextPath}/actuator/health/readiness`
  const dispatcher = new Agent({ connect: { rejectUnauthorized: false } })
  try {
    const res = await request(url, { dispatcher, signal: AbortSignal.timeout(3000) })
    const body = await res.body.text()
    process.stdout.write(`${res.statusCode} ${body}\n`)
    return res.statusCode === 200 ? 0 : 1
  } catch (err) {
    process.stdout.write(`unreachable: ${(err as Error).message}\n`)
    return 1
  } finally {
    await dispatcher.close()
  }
}
