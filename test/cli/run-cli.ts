import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The built CLI; `npm test` builds first (pretest). */
export const CLI_MAIN = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

export interface CliResult {
  /** The exit code; -1 when the process was killed for running past the timeout. */
  code: number;
  stdout: string;
  stderr: string;
}

/** The environment a child process sees: ours without the settings a test must choose itself. */
export function childEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const base = { ...process.env };
  for (const name of ['DATABASE_URL', 'REDIS_URL', 'PORT', 'HOST', 'LOG_LEVEL', 'RATE_LIMIT_PER_MINUTE']) delete base[name];
  return { ...base, ...env };
}

export function assertBuilt(file: string): void {
  if (!fs.existsSync(file)) throw new Error(`${file} is missing: run \`npm run build\` first (npm test does)`);
}

/** Runs `dialbook …` as a user would, against the store DATABASE_URL names; never throws on a non-zero exit. */
export function runCli(args: string[], databaseUrl: string, env: Record<string, string> = {}): Promise<CliResult> {
  assertBuilt(CLI_MAIN);
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI_MAIN, ...args],
      { env: childEnv({ ...env, DATABASE_URL: databaseUrl }), timeout: 60_000 },
      (error, stdout, stderr) => {
        // Killed by the timeout (a command that hangs): no exit code, which no assertion on one accepts.
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Runs a CLI command that must succeed and print one JSON object. */
export async function cliJson<T = Record<string, string>>(args: string[], databaseUrl: string): Promise<T> {
  const result = await runCli(args, databaseUrl);
  if (result.code !== 0) throw new Error(`dialbook ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
  return JSON.parse(result.stdout) as T;
}

/** The payload of a JWT, unverified. */
export function jwtPayload(token: string): Record<string, unknown> {
  const [, payload] = token.split('.');
  return JSON.parse(Buffer.from(payload ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
}

export interface CliServer {
  url: string;
  output(): string;
  /** SIGTERM; resolves with the exit code (null when it ended by a signal). */
  stop(): Promise<number | null>;
  /** SIGKILL if it still runs, for `after`. */
  kill(): void;
}

/** `dialbook serve` on this port (with these settings added), resolved once GET /healthz answers 200. */
export async function startCliServe(databaseUrl: string, port: number, env: Record<string, string> = {}): Promise<CliServer> {
  assertBuilt(CLI_MAIN);
  const child = spawn(process.execPath, [CLI_MAIN, 'serve'], {
    env: childEnv({ LOG_LEVEL: 'warn', ...env, DATABASE_URL: databaseUrl, HOST: '127.0.0.1', PORT: String(port) }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  let ended = false;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  void exited.then(() => (ended = true));
  const server: CliServer = {
    url: `http://127.0.0.1:${port}`,
    output: () => output,
    stop() {
      if (!ended) child.kill('SIGTERM');
      return exited;
    },
    kill() {
      if (!ended) child.kill('SIGKILL');
    },
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (ended) throw new Error(`dialbook serve exited before it answered /healthz:\n${output}`);
    try {
      if ((await fetch(`${server.url}/healthz`)).status === 200) return server;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      server.kill();
      throw new Error(`dialbook serve did not answer /healthz within 30 s:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
