#!/usr/bin/env node
// Entry point of the `staticstreams` command: runs the compiled CLI (built by `npm ci` / `npm run compile`).
import { main } from '../build/generator/cli/main.js';

process.exitCode = await main(process.argv);
