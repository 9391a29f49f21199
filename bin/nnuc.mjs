#!/usr/bin/env node
// Entry point of the `nnuc` command. The sources are TypeScript, run through tsx's loader
// (no separate build step; worker threads inherit the loader, see runtime/util/workers.ts).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv);
