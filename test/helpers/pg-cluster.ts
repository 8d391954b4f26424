import { execFile, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './server-process.js';

const run = promisify(execFile);

/**
 * A PostgreSQL server the test owns, in a temp directory on a spare port, so that a test may stop and
 * start it without touching the shared server other tests use.
 */
export interface PgCluster {
  /** `postgres://postgres@127.0.0.1:PORT/postgres` (trust auth). */
  readonly url: string;
  readonly port: number;
  start(): Promise<void>;
  /** `immediate` is what a crash or a killed host looks like to clients; `fast` is an orderly shutdown. */
  stop(mode?: 'immediate' | 'fast'): Promise<void>;
  /** Stops the server if it runs and removes its directory; safe to call twice. */
  destroy(): Promise<void>;
}

// A test file that dies before its `after` hooks must not leave a postmaster running: stop it on the way out.
const live = new Map<string, () => void>();
process.once('exit', () => {
  for (const stopNow of live.values()) stopNow();
});

/** The newest installed PostgreSQL's bin directory holding initdb and pg_ctl. */
function findBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!fs.existsSync(root)) return undefined;
  const versions = fs.readdirSync(root).filter((v) => /^\d+(\.\d+)?$/.test(v)).sort((a, b) => Number(b) - Number(a));
  return versions
    .map((v) => path.join(root, v, 'bin'))
    .find((bin) => fs.existsSync(path.join(bin, 'initdb')) && fs.existsSync(path.join(bin, 'pg_ctl')));
}

/** initdb refuses to run as root: as root, the cluster belongs to the `postgres` user. */
function clusterOwner(): { uid: number; gid: number; wrap: string[] } | undefined {
  if (process.getuid?.() !== 0) return { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0, wrap: [] };
  const uid = Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout.trim());
  const gid = Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout.trim());
  if (!uid || !Number.isInteger(gid)) return undefined;
  const runuser = ['/usr/sbin/runuser', '/sbin/runuser', '/usr/bin/runuser'].find((p) => fs.existsSync(p));
  return runuser ? { uid, gid, wrap: [runuser, '-u', 'postgres', '--'] } : undefined;
}

/** Why a private cluster cannot be made on this machine, or false when it can. */
export function pgClusterSkipReason(): string | false {
  if (!findBinDir()) return 'no PostgreSQL server binaries (initdb, pg_ctl) under /usr/lib/postgresql/*/bin';
  if (!clusterOwner()) return 'running as root without a postgres user and runuser to own the cluster';
  return false;
}

/** initdb a new cluster in a temp directory and start it on a free port. */
export async function createPgCluster(): Promise<PgCluster> {
  const bin = findBinDir();
  const owner = clusterOwner();
  if (!bin || !owner) throw new Error(`cannot make a PostgreSQL cluster: ${pgClusterSkipReason()}`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dialbook-pg-'));
  fs.chownSync(dir, owner.uid, owner.gid);
  const data = path.join(dir, 'data');
  const logFile = path.join(dir, 'server.log');

  const commandFor = (tool: string, args: string[]): [string, string[]] => {
    const [command, ...rest] = [...owner.wrap, path.join(bin, tool), ...args];
    return [command!, rest];
  };
  const pg = async (tool: string, args: string[], timeoutMs = 60_000) => {
    try {
      await run(...commandFor(tool, args), { timeout: timeoutMs });
    } catch (error) {
      const log = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8').slice(-4000) : '';
      const e = error as { stderr?: string; message: string };
      throw new Error(`${tool} ${args.join(' ')} failed: ${e.stderr || e.message}\n${log}`);
    }
  };

  let port = 0;
  let running = false;
  let destroyed = false;
  const start = async () => {
    // The socket lives in the temp dir, so nothing outside it (such as /var/run/postgresql) is touched.
    await pg('pg_ctl', ['start', '-D', data, '-l', logFile, '-w', '-t', '60', '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`]);
    running = true;
  };

  try {
    await pg('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--locale=C', '--no-sync']);
    // Another process may take the free port between the probe and the start: try a few.
    for (let attempt = 1; ; attempt += 1) {
      port = await freePort();
      try {
        await start();
        break;
      } catch (error) {
        if (attempt >= 3) throw error;
      }
    }
  } catch (error) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw error;
  }

  live.set(dir, () => {
    spawnSync(...commandFor('pg_ctl', ['stop', '-D', data, '-m', 'immediate', '-w']));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    start,
    async stop(mode = 'immediate') {
      await pg('pg_ctl', ['stop', '-D', data, '-m', mode, '-w', '-t', '60']);
      running = false;
    },
    async destroy() {
      if (destroyed) return;
      destroyed = true;
      live.delete(dir);
      if (running || fs.existsSync(path.join(data, 'postmaster.pid'))) {
        await pg('pg_ctl', ['stop', '-D', data, '-m', 'immediate', '-w', '-t', '60']).catch(() => {});
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
