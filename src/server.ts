import { loadConfig } from './config/config.js';
import { startServer } from './serve.js';

// `npm start`: serve until SIGTERM or SIGINT, then stop gracefully.
const server = await startServer(loadConfig());
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    server.app.log.info({ signal }, 'stopping');
    server.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        server.app.log.error({ err: error }, 'stop failed');
        process.exit(1);
      },
    );
  });
}
