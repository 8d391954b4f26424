#!/usr/bin/env node
import { ConfigError, loadConfig } from '../config/config.js';
import { DomainError } from '../shared/errors.js';
import { buildCli, UsageError } from './cli.js';

buildCli(() => loadConfig())
  .parseAsync(process.argv)
  .catch((error: unknown) => {
    const expected = error instanceof DomainError || error instanceof ConfigError || error instanceof UsageError;
    process.stderr.write(`dialbook: ${expected || error instanceof Error ? (error as Error).message : String(error)}\n`);
    process.exitCode = 1;
  });
