// Request examples for POST /command/{type} in the OpenAPI document (Swagger's Try it out posts them), from examples/hermod/.

/** provision, authenticate, sign: examples/hermod/*-command.json unchanged (test/docs/openapi-lint.test.ts compares); the others ours. */
export const COMMAND_EXAMPLES: Record<string, object> = {
  provision: {
    commandHeader: { lifespan: 1500, timeout: 1500 },
    provCommand: {
      nonce: '123456789',
      userid: 'john.doe@example.com',
      responsesignaturekey: 'ATTESTATION',
      responseformat: 'jws',
      profile: {
        servername: 'hermod1',
        name: 'TestProfile',
        keygenrequests: [
          {
            keyid: 'signer',
            usage: 'SIG',
            keytypeprios: [
              { keytype: 'RSA', keylength: '2048', responsemechanism: 'RS256' }
            ],
            storageprios: [
              'APP'
            ],
            keystate: 'ACTIVE',
            certreq: 'MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA'
          }
        ]
      }
    }
  },
  certificate: {
    commandHeader: {
      lifespan: 300,
      timeout: 300,
      to: [
        'john.doe'
      ],
      externalId: 'cert-4711'
    },
    certCommand: {
      certificates: [
        { keyid: 'signer', certificate: 'MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA' }
      ]
    }
  },
  authenticate: {
    commandHeader: {
      lifespan: 120,
      timeout: 60,
      to: [
        'john.doe'
      ],
      externalId: 'login-4711'
    },
    authCommand: {
      params: {
        description: [
          {
            content_type: 'application/hermod+content-id',
            data: 'AUTH:4018e11f-1209-45f5-ade7-e59004e10745',
            content_encoding: 'base64',
            key: 'auth_image',
            description: 'Verify that image is equal',
            visible: true
          }
        ]
      }
    }
  },
  sign: {
    commandHeader: {
      lifespan: 30,
      timeout: 30,
      to: [
        '@tmp'
      ]
    },
    signCommand: {
      params: {
        description: [
          {
            content_encoding: 'base64',
            content_type: 'text/plain',
            data: 'UGVyc29uYWw=',
            description: 'Signing request from',
            key: 'requester',
            visible: true
          }
        ],
        filter: { op: 'eq', param: 'key.type', value: 'RSA' },
        format: 'pkcs7',
        mechanism: 'CKM_SHA256_RSA_PKCS',
        tbs: [
          {
            content_encoding: 'base64',
            content_type: 'text/plain',
            data: 'VHJhbnNmZXIgNTAwIFVTRCBmcm9tIENheW1hbiBJc2xhbmQgdG8gSG9sZWJyb29rIEx0ZC4=',
            description: 'Text to sign',
            key: 'tbs',
            visible: true
          }
        ]
      }
    }
  },
  ping: {
    commandHeader: {
      lifespan: 30,
      timeout: 30,
      to: [
        '@tmp'
      ]
    }
  }
}
