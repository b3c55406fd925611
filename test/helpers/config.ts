// A complete BrokerConfig for tests, without reading a file: plain HTTP, memory store, fast callbacks.
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { BrokerConfig, ClientConfig } from '../../src/config/types.js'

export const KEYS = {
  prime: '079b6a64d75b4e9585bd0c24f36a7deba0ad03498ecf4d69b5766f24fa02e045',
  hag: 'fd04de2f1e5544b2915d1a65098c490637a0715f5c9843459f05dfc298342936',
  other: '59c2a0a1999d42dbbe7f16ef1072736a031c5f4739c04025a641ae1751849857'
}

export function testClients (callbackUrl?: string): ClientConfig[] {
  const callback = callbackUrl === undefined ? {} : { callbackUrl }
  return [
    { clientId: 'prime', key: KEYS.prime, group: 'acme', callbackMode: 'append', ...callback },
    { clientId: 'hag', key: KEYS.hag, group: 'acme', callbackMode: 'append', ...callback },
    { clientId: 'other', key: KEYS.other, group: 'globex', callbackMode: 'append', ...callback }
  ]
}

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] }

export function testConfig (patch: DeepPartial<BrokerConfig> & { allowedClients?: ClientConfig[] } = {}): BrokerConfig {
  const base: BrokerConfig = {
    server: {
      port: 0,
      address: '127.0.0.1',
      contextPath: '/hermod',
      ssl: { enabled: false, clientAuth: 'none' },
      timeouts: { headers: 10_000, request: 30_000, idle: 30_000, keepAlive: 72_000, checkingInterval: 1000, tlsHandshake: 10_000 },
      connections: { max: 0, perAddress: 0 },
      frontProcess: false
    },
    uriBase: '/rest',
    publicUrl: 'https://broker.example:20400/hermod/rest/ms',
    fqdn: 'broker.example',
    allowedClients: testClients(),
    broker: {
      store: 'memory',
      redis: { url: 'redis://127.0.0.1:6379', prefix: 'hermod-test', options: {} },
      commands: {
        defaultTimeout: 300,
        defaultLifespan: 300,
        maxTimeout: 86400,
        maxLifespan: 86400,
        maxDestinations: 16,
        bodyLimit: 1048576
      },
      sweepIntervalMs: 50,
      purgeGraceMs: 3_600_000,
      maxLongPollSeconds: 60,
      callbacks: {
        timeoutMs: 2000,
        attempts: 4,
        backoffBaseMs: 10,
        backoffMaxMs: 50,
        retryAfterMaxMs: 2000,
        concurrency: 16,
        perClientConcurrency: 4,
        insecureSkipVerify: false,
        deadLetterMax: 1000,
        lockDurationMs: 10000,
        stalledIntervalMs: 5000
      },
      generateClientOpen: false,
      devSink: false,
      dev: { enabled: false, deliveryLogSize: 1000, autoAnswer: { enabled: false, profile: 'default', rules: [] } },
      contentProvider: { timeoutMs: 2000 },
      overload: {
        maxEventLoopDelayMs: 0,
        maxInFlight: 0,
        maxInFlightPerConnection: 0,
        maxQueueMs: 0,
        shedPauseMs: 0,
        maxHeapUsedBytes: 0,
        maxRssBytes: 0,
        startGraceMs: 0
      },
      rateLimit: { enabled: false, windowMs: 60000, perClientMax: 6000, perBoxMax: 600, perAddressMax: 6000 },
      log: { level: 'silent', pretty: false },
      trustProxy: false,
      dataDir: join(tmpdir(), 'hermod-test-data')
    }
  }
  return merge(base, patch) as BrokerConfig
}

function merge (base: unknown, patch: unknown): unknown {
  if (patch === undefined) return base
  if (typeof base !== 'object' || base === null || Array.isArray(base) || typeof patch !== 'object' || patch === null || Array.isArray(patch)) return patch
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) }
  for (const [k, v] of Object.entries(patch)) out[k] = merge(out[k], v)
  return out
}
