// The repository stands alone: no tracked file reaches outside it for the design folder a clone never has.
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../../', import.meta.url))
// Built from parts, so that this file itself does not hold the path it looks for.
const outside = new RegExp(['\\.\\.', 'shared\\b'].join('/'))

t.test('no tracked file refers to a sibling shared/ folder', async (t) => {
  const files = execFileSync('git', ['ls-files', '-z'], { cwd: root, encoding: 'utf8' }).split('\0')
    .filter((f) => f !== '' && f !== 'package-lock.json' && !f.startsWith('bench/results/'))
  t.ok(files.length > 50, 'the tracked files were listed')
  const offenders = files.filter((f) => {
    try { return outside.test(readFileSync(new URL(f, `file://${root}`), 'utf8')) } catch { return false }
  })
  t.same(offenders, [], 'files that read the sibling shared folder')
})
