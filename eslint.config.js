// Lint: neostandard (the style of Fastify and Platformatic, which this code follows), for TypeScript, with a line limit.
import neostandard from 'neostandard'

export default [
  ...neostandard({ ts: true, ignores: ['dist/**', 'bench/results/**', 'node_modules/**'] }),
  {
    rules: {
      // `void promise` marks a deliberately unawaited promise; placeholders like '${PORT}' are config text, not templates.
      'no-void': ['error', { allowAsStatement: true }],
      'no-template-curly-in-string': 'off',
      '@stylistic/max-len': ['error', { code: 140, ignoreUrls: true, ignoreStrings: true, ignoreTemplateLiterals: true, ignoreRegExpLiterals: true }]
    }
  },
  // The console page runs in the browser (plain ES modules, no build).
  { files: ['src/console/web/**/*.js'], languageOptions: { globals: { location: 'readonly', EventSource: 'readonly' } } }
]
