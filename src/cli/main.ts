#!/usr/bin/env node
import { buildCli } from './cli.js';
import { loadConfig } from '../config/config.js';

buildCli(() => loadConfig())
  .parseAsync(process.argv)
  .catch((error: unknown) => {
    // Unknown account, bad setting, store not answering: one line for the operator, never a stack trace.
    process.stderr.write(`dialbook: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
