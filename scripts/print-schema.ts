import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PROJECT_ROOT } from '../src/config/config.js';
import { printSchema, schema } from '../src/graphql/schema.js';
import { withAuthorizationTable } from './authorization-doc.js';

const schemaFile = path.join(PROJECT_ROOT, 'schema', 'schema.graphql');
await writeFile(schemaFile, printSchema());
console.log(`wrote ${path.relative(process.cwd(), schemaFile)}`);

const docFile = path.join(PROJECT_ROOT, 'docs', 'authorization.md');
await writeFile(docFile, await withAuthorizationTable(await readFile(docFile, 'utf8'), schema));
console.log(`wrote ${path.relative(process.cwd(), docFile)}`);
