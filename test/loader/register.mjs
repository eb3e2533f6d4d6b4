// Runs test files (and what they import) from their TypeScript directly, without compiling the
// project first: `npm run test:file -- test/unit/retention.test.ts` takes a second or two. Types
// are not checked here (`npm run typecheck` or `npm test` does); see CONTRIBUTING.md.

import { register } from 'node:module';

register('./hooks.mjs', import.meta.url);
