import { loadConfig } from './config/config.js';
import { startServer, stopOnSignals } from './serve.js';

// `npm start`: serve until SIGTERM or SIGINT, then stop gracefully.
try {
  stopOnSignals(await startServer(loadConfig()));
} catch (error) {
  // A bad setting or a port in use is the operator's to fix: one line, no stack trace.
  process.stderr.write(`dialbook: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
