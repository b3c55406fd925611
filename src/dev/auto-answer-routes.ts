// Dev API: the auto-answer rules of this instance, viewed and replaced at run time.
import type { FastifyInstance } from 'fastify'
import { parseAutoAnswerRules } from '../device/rules.js'
import { HERMOD_INVALID_REQUEST } from '../server/errors.js'
import { errorResponses } from '../server/routes/schemas.js'
import type { DevServices } from './services.js'

const tags = ['development']

const stateSchema = {
  type: 'object',
  properties: {
    enabled: { type: 'boolean' },
    rules: { type: 'array', items: { type: 'object', additionalProperties: true } },
    counts: {
      type: 'object',
      description: 'what this instance did since it started',
      properties: { answered: { type: 'integer' }, tooLate: { type: 'integer' }, failed: { type: 'integer' }, ignored: { type: 'integer' } }
    }
  }
}

/** `GET|PUT dev/api/auto-answer`. Rules are per instance: on several instances, PUT to each (or set them in the config). */
export async function autoAnswerRoutes (app: FastifyInstance, options: { dev: DevServices }): Promise<void> {
  const { autoAnswer } = options.dev

  app.get('/api/auto-answer', {
    schema: {
      summary: 'This instance\'s auto-answer rules and what they did',
      tags,
      response: { 200: { ...stateSchema, description: 'The rules in force and the counts' }, ...errorResponses(401, 403) }
    }
  }, async () => autoAnswer.state())

  app.put<{ Body: { enabled?: boolean, rules: unknown[] } }>('/api/auto-answer', {
    schema: {
      summary: 'Replace this instance\'s auto-answer rules (the same fields as broker.dev.auto-answer.rules, kebab- or camelCase)',
      tags,
      body: {
        type: 'object',
        required: ['rules'],
        additionalProperties: false,
        properties: {
          enabled: { type: 'boolean', default: true },
          rules: { type: 'array', maxItems: 100, items: { type: 'object' } }
        },
        examples: [{ enabled: true, rules: [{ client: 'demo', type: 'sign,authenticate', action: 'approve', answer: 'realistic' }] }]
      },
      response: { 200: { ...stateSchema, description: 'The rules now in force' }, ...errorResponses(400, 401, 403) }
    }
  }, async (request) => {
    const { rules, problems } = parseAutoAnswerRules(request.body.rules)
    if (problems.length > 0) throw new HERMOD_INVALID_REQUEST(`auto-answer rules: ${problems.slice(0, 10).join('; ').slice(0, 1000)}`)
    autoAnswer.configure(request.body.enabled ?? true, rules)
    return autoAnswer.state()
  })
}
