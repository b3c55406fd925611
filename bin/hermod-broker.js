#!/usr/bin/env node
// The installed `hermod-broker` command: checks the Node.js version, then runs the compiled CLI (npm run build first in a checkout).
import { exitUnlessSupportedNode } from '../dist/src/cli/node-version.js'

// Before the CLI is loaded: on an older Node.js its imports would fail with an obscure SyntaxError.
exitUnlessSupportedNode()
await import('../dist/src/cli/main.js')
