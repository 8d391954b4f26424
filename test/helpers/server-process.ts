import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { fileURLToPath } from 'node:url';

/** The built entry point, as `npm start` runs it; `npm test` builds first (run `npm run build` when testing alone). */
export const SERVER_ENTRY = fileURLToPath(new URL('../../dist/server.js', import.meta.url));

/**
 * The options `npm start` gives node (package.json's start script: V8's heap sized for the server's memory budget,
 * docs/operations.md#memory), so that tests and benchmarks run the server as users do.
 */
export const SERVER_NODE_OPTIONS: readonly string[] = (() => {
  const pkg = JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { scripts: { start: string } };
  const options = /^(?:exec\s+)?node((?:\s+--\S+)*)\s+dist\/server\.js$/.exec(pkg.scripts.start.trim())?.[1];
  if (options === undefined) throw new Error(`package.json's start script is not "[exec] node [--options] dist/server.js": ${pkg.scripts.start}`);
  return options.split(/\s+/).filter(Boolean);
})();

export interface ServerProcess {
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  readonly pid: number;
  /** False once the process has exited, for whatever reason. */
  alive(): boolean;
  /** What the process wrote to stdout and stderr so far (the last 64 KB), for failure messages. */
  output(): string;
  /** SIGTERM, as an orchestrator stops an instance; SIGKILL if it has not exited within `graceMs`. Resolves with the exit code. */
  stop(graceMs?: number): Promise<number | null>;
  /** SIGKILL (`kill -9`): no shutdown hook runs. Resolves once the process is gone. */
  kill(): Promise<void>;
}

const live = new Set<ChildProcess>();
// A test file that dies before its `after` hooks must not leave servers behind.
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** A port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/**
 * Whether process `pid` holds the socket listening on `port` (Linux, through /proc); undefined where that cannot be
 * told. Test files run side by side and each picks free ports: a port another one took between freePort() and our
 * child's listen() answers /healthz too, for a server on another store.
 */
function listensOn(pid: number, port: number): boolean | undefined {
  try {
    const wanted = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
    const inodes = new Set<string>();
    for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
      if (!fs.existsSync(table)) continue;
      for (const line of fs.readFileSync(table, 'utf8').split('\n').slice(1)) {
        const cols = line.trim().split(/\s+/);
        if (cols[1]?.endsWith(wanted) && cols[3] === '0A') inodes.add(cols[9]!);
      }
    }
    for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
      let target: string;
      try {
        target = fs.readlinkSync(`/proc/${pid}/fd/${fd}`, { encoding: 'utf8' });
      } catch {
        continue; // closed meanwhile
      }
      const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
      if (inode && inodes.has(inode)) return true;
    }
    return false;
  } catch {
    return undefined;
  }
}

/**
 * Starts `node dist/server.js` (with `npm start`'s options) on a free port with the given environment (and nothing else from this
 * process's environment, so a developer's DATABASE_URL or REDIS_URL cannot leak in), and resolves once
 * `/healthz` answers 200 from it. A port taken by someone else in the meantime is given up for another one.
 */
export async function startServerProcess(env: Record<string, string>, options: { startupMs?: number } = {}): Promise<ServerProcess> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnFreePort(env, options);
    } catch (error) {
      if (!(error instanceof PortTaken) || attempt >= 3) throw error;
    }
  }
}

class PortTaken extends Error {}

async function startOnFreePort(env: Record<string, string>, options: { startupMs?: number }): Promise<ServerProcess> {
  if (!fs.existsSync(SERVER_ENTRY)) throw new Error(`${SERVER_ENTRY} is missing: run \`npm run build\` (npm test does it first)`);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, [...SERVER_NODE_OPTIONS, SERVER_ENTRY], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  let log = '';
  const keep = (chunk: Buffer) => {
    log = (log + chunk.toString('utf8')).slice(-65_536);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code, signal) => {
      live.delete(child);
      resolve(code ?? (signal ? null : 0));
    });
  });
  let gone = false;
  void exited.then(() => {
    gone = true;
  });

  const server: ServerProcess = {
    url,
    pid: child.pid!,
    alive: () => !gone,
    output: () => log,
    async stop(graceMs = 10_000) {
      if (gone) return exited;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
    async kill() {
      if (gone) return;
      child.kill('SIGKILL');
      await exited;
    },
  };

  const deadline = Date.now() + (options.startupMs ?? 30_000);
  for (;;) {
    if (gone && log.includes('EADDRINUSE')) throw new PortTaken(log);
    if (gone) throw new Error(`the server exited before it was healthy:\n${log}`);
    try {
      const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) });
      // Not ours while our child does not hold the port: it is still starting, or about to find the port taken.
      if (res.status === 200 && listensOn(child.pid!, port) !== false) return server;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      await server.stop(0);
      throw new Error(`the server did not answer /healthz on ${url} in time:\n${log}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
