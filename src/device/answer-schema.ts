// JSON schemas of the virtual device's answers (the `response` it posts), for the OpenAPI document next to the device API.

const base64 = (description: string): object => ({ type: 'string', format: 'byte', description })

const signatureReport = {
  type: 'object',
  properties: {
    key: { type: 'string', description: 'the `key` of the tbs item, or `challenge`' },
    keyid: { type: 'string' },
    format: { type: 'string', enum: ['pkcs7', 'raw'] },
    mechanism: { type: 'string', example: 'CKM_SHA256_RSA_PKCS' },
    signature: base64('pkcs7: DER ContentInfo with SignedData, content attached, signer certificate and chain included; raw: PKCS#1 v1.5 (RSA) or DER ECDSA signature')
  },
  required: ['key', 'keyid', 'format', 'mechanism', 'signature']
}

const signedAnswer = (what: string): object => ({
  type: 'object',
  description: what,
  properties: {
    signatures: { type: 'array', items: signatureReport },
    signature: base64('the first item\'s signature (the common single-item case)'),
    keyid: { type: 'string', description: 'the key the filter selected (`test-identity` when nothing is provisioned)' },
    certificate: base64('the signer\'s certificate, DER')
  },
  required: ['signatures', 'signature', 'keyid']
})

const provisionedKey = {
  type: 'object',
  properties: {
    keyid: { type: 'string' },
    usage: { type: 'string' },
    keytype: { type: 'string', enum: ['RSA', 'EC'] },
    keylength: { oneOf: [{ type: 'integer' }, { type: 'string' }], description: 'RSA bits, or the EC curve (P-256, ...)' },
    responsemechanism: { type: 'string' },
    storage: { type: 'string' },
    keystate: { type: 'string' },
    certreq: base64('the new PKCS#10 request (DER): the dummy\'s subject (or CN=userid), the new public key, signed by the new key'),
    publickey: base64('SubjectPublicKeyInfo, DER'),
    subject: { type: 'string', example: 'CN=john.doe@example.com' },
    subjectSource: { type: 'string', enum: ['certreq', 'userid'], description: '`userid`: the dummy certreq did not parse' }
  },
  required: ['keyid', 'keytype', 'keylength', 'certreq', 'publickey', 'subject', 'subjectSource']
}

/** The provisioning result: the JWS payload, or `result` of a `json` answer. */
export const provisionResultSchema = {
  $id: 'DeviceProvisionResult',
  type: 'object',
  properties: {
    nonce: { type: 'string', description: 'the command\'s nonce, echoed' },
    userid: { type: 'string' },
    profile: { type: 'string' },
    servername: { type: 'string' },
    keys: { type: 'array', items: provisionedKey },
    notes: { type: 'array', items: { type: 'string' }, description: 'what the device did differently from the request (e.g. a dummy certreq that did not parse)' },
    iat: { type: 'integer', description: 'seconds since the epoch' }
  },
  required: ['keys', 'notes', 'iat']
} as const

/** Every answer the virtual device posts as `response`, per command type; REJECTED answers are `{reason}`. */
export const deviceAnswerSchema = {
  $id: 'DeviceAnswer',
  description: 'The `response` the virtual device (hermod-broker device, auto-answer) posts with status OK, per command type; with status REJECTED it is `{ "reason": "..." }`. Documented in docs/device.md.',
  anyOf: [
    {
      title: 'provision (responseformat jws)',
      type: 'object',
      properties: {
        responseformat: { type: 'string', enum: ['jws'] },
        jws: { type: 'string', description: 'compact JWS: RS256 (ES256 for EC keys), header alg, typ JWT, kid, x5c (signer certificate then chain); payload DeviceProvisionResult' }
      },
      required: ['responseformat', 'jws']
    },
    {
      title: 'provision (any other responseformat)',
      type: 'object',
      properties: { responseformat: { type: 'string', enum: ['json'] }, result: { $ref: 'DeviceProvisionResult#' } },
      required: ['responseformat', 'result']
    },
    {
      title: 'certificate',
      type: 'object',
      properties: {
        installed: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              keyid: { type: 'string' },
              subject: { type: 'string' },
              issuer: { type: 'string' },
              serialNumber: { type: 'string', description: 'hex' },
              notAfter: { type: 'string', format: 'date-time' },
              fingerprint256: { type: 'string' }
            }
          }
        }
      },
      required: ['installed']
    },
    { title: 'sign', ...signedAnswer('one signature per tbs item, all by one key') },
    {
      title: 'authenticate',
      ...signedAnswer('the challenge signed like a sign command'),
      properties: { ...(signedAnswer('') as { properties: object }).properties, signedData: base64('the bytes that were signed') }
    },
    { title: 'ping', type: 'object', properties: { pong: { type: 'boolean' }, time: { type: 'string', format: 'date-time' } } },
    { title: 'REJECTED', type: 'object', properties: { reason: { type: 'string' } }, required: ['reason'] }
  ]
} as const
