import { execFile } from 'node:child_process';

export interface CurlAnswer {
  status: number;
  body: string;
  json(): any;
}

/** Runs the real curl binary with these arguments, as a user would type them; the status comes from --write-out. */
export function curl(args: string[]): Promise<CurlAnswer> {
  return new Promise((resolve, reject) => {
    execFile(
      'curl',
      ['--silent', '--show-error', '--max-time', '60', '--write-out', '\n%{http_code}', ...args],
      { maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) return reject(new Error(`curl failed: ${stderr || error.message}`));
        const cut = stdout.lastIndexOf('\n');
        const body = stdout.slice(0, cut);
        resolve({ status: Number(stdout.slice(cut + 1)), body, json: () => JSON.parse(body) });
      },
    );
  });
}
