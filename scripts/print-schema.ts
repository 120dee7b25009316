import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PROJECT_ROOT } from '../src/config/config.js';
import { printSchema } from '../src/graphql/schema.js';

const target = path.join(PROJECT_ROOT, 'schema', 'schema.graphql');
await writeFile(target, printSchema());
console.log(`wrote ${path.relative(process.cwd(), target)}`);
