// The built-in dev content provider: `POST dev/content/getcontent {"contentId"}` answers sample images, so the flow works out of the box.
import type { FastifyInstance } from 'fastify'
import { errorResponses } from '../server/routes/schemas.js'
import { sampleContent } from './sample-images.js'

/** Point a client's `content-provider-url` at `{public origin}{context-path}/dev/content`. */
export async function devContentRoutes (app: FastifyInstance): Promise<void> {
  app.post<{ Body: { contentId: string } }>('/content/getcontent', {
    schema: {
      summary: 'The dev content provider (Hermod 3.1.1+ getcontent): sample PNGs, front and back for PROV: ids, one image otherwise',
      tags: ['development'],
      body: { type: 'object', required: ['contentId'], properties: { contentId: { type: 'string', minLength: 1, maxLength: 1024 } } },
      response: {
        200: {
          description: 'The content items: front and back for PROV: ids, one image otherwise',
          type: 'object',
          properties: {
            data: { type: 'array', items: { type: 'object', properties: { content_encoding: { type: 'string' }, content_type: { type: 'string' }, key: { type: 'string' }, data: { type: 'string' } } } }
          }
        },
        ...errorResponses(400, 401, 403)
      }
    }
  }, async (request) => ({ data: sampleContent(request.body.contentId) }))
}
