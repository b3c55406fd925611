#!/usr/bin/env node
// The installed `hermod-broker` command: runs the compiled CLI (npm run build first in a checkout).
import '../dist/src/cli/main.js'
