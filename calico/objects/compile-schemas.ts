// Build step (`npm run build`, after tsc): every object schema's validator as code, written next
// to schema.js as schemas.compiled.cjs, so that the CLI starts without loading ajv or compiling
// (schema.ts). Here, unlike at run time, the schemas are checked against ajv's meta-schema.
import { writeFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import standalone from 'ajv/dist/standalone/index.js';
import './parse-object.js'; // every kind's parser, each compiling its schemas when loaded
import { AJV_OPTIONS, SCHEMAS, schemaName } from './schema.js';

const ajv = new Ajv({ ...AJV_OPTIONS, code: { source: true } });
const names: Record<string, string> = {};
for (const schema of SCHEMAS) {
  const name = schemaName(schema);
  if (names[name] !== undefined) continue;
  ajv.addSchema(schema, name);
  names[name] = name;
}
writeFileSync(new URL('schemas.compiled.cjs', import.meta.url), standalone.default(ajv, names));
