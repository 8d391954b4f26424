// After generation: records in src/schema.d.ts the sha256 of the document it was made from, so that a test can tell
// when the types are older than docs/openapi.json.
import { createHash } from 'node:crypto';
import fs from 'node:fs';

const hash = createHash('sha256').update(fs.readFileSync('../../docs/openapi.json')).digest('hex');
const file = 'src/schema.d.ts';
const text = fs.readFileSync(file, 'utf8').replace(/^\/\/ openapi\.json sha256: [0-9a-f]{64}\n/, '');
fs.writeFileSync(file, `// openapi.json sha256: ${hash}\n${text}`);
