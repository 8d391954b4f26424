// Builds the console (web/) into dist/web/: fingerprinted JS and CSS under assets/, and index.html naming them.
// Run by `npm run build` after tsc; prints the gzipped size of the JavaScript it wrote.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const out = path.resolve('dist/web');
fs.rmSync(out, { recursive: true, force: true });
fs.mkdirSync(path.join(out, 'assets'), { recursive: true });

const result = await build({
  entryPoints: ['web/main.js'],
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['es2020'],
  write: false,
  legalComments: 'none',
  logLevel: 'warning',
});
const js = result.outputFiles[0].contents;
const css = fs.readFileSync('web/console.css');

const fingerprint = (data) => createHash('sha256').update(data).digest('hex').slice(0, 12);
const jsName = `app-${fingerprint(js)}.js`;
const cssName = `app-${fingerprint(css)}.css`;
fs.writeFileSync(path.join(out, 'assets', jsName), js);
fs.writeFileSync(path.join(out, 'assets', cssName), css);
fs.writeFileSync(
  path.join(out, 'index.html'),
  `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Dialbook console</title>
<link rel="stylesheet" href="/console/assets/${cssName}">
<script type="module" src="/console/assets/${jsName}"></script>
</head>
<body>
<div id="app"><noscript>The Dialbook console needs JavaScript.</noscript></div>
</body>
</html>
`,
);
const gz = gzipSync(js, { level: 9 }).length;
fs.writeFileSync(path.join(out, 'sizes.json'), `${JSON.stringify({ js: jsName, jsBytes: js.length, jsGzipBytes: gz, css: cssName, cssBytes: css.length })}\n`);
process.stdout.write(`console: ${jsName} ${js.length} bytes, ${gz} gzipped; ${cssName} ${css.length} bytes\n`);
