// One ajv instance for every object schema, and the translation of ajv's first error into a
// problem that names a field the way an operator reads it: `spec.allocations[3]`,
// `metadata.annotations["projectcalico.org/IPv4Address"]`.
//
// Schemas check shape only (types, required fields, enums). What depends on more than one field
// or on the address family (prefix ranges, encapsulation rules) is checked by the converters.
// No defaults are filled in by ajv: that would mutate the caller's object.
//
// Start-up matters: `wren apply` is a process per run. The build generates every schema's
// validator as code (compile-schemas.ts writes schemas.compiled.cjs next to this module), so a
// run neither loads ajv (~35 ms) nor compiles (~25 ms). A schema with no generated code (the
// tests run the TypeScript sources; a schema changed since the build) is compiled by ajv on
// first use, with the same options. Either way the code is ajv's own.
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import type * as AjvModule from 'ajv';
import type { ErrorObject, JSONSchemaType, ValidateFunction } from 'ajv';
import { describeValue } from './results.js';

export const AJV_OPTIONS = { allErrors: false, verbose: true, strict: true, allowUnionTypes: true } as const satisfies AjvModule.Options;

/** Every schema compileSchema has been given: what the build generates code for. */
export const SCHEMAS: object[] = [];

/** A schema's name in the generated code, from its content: a schema changed since the build has none. */
export function schemaName(schema: object): string {
  return `v${createHash('sha256').update(JSON.stringify(schema)).digest('hex').slice(0, 16)}`;
}

/** A schema's validator, made the first time it is asked for. */
export type LazyValidator<T> = () => ValidateFunction<T>;

export function compileSchema<T>(schema: JSONSchemaType<T>): LazyValidator<T> {
  SCHEMAS.push(schema);
  let validate: ValidateFunction<T> | undefined;
  return () => (validate ??= (generated()[schemaName(schema)] as ValidateFunction<T> | undefined) ?? compileWithAjv(schema));
}

// Both CommonJS, so loaded synchronously, on first use.
const load = createRequire(import.meta.url);
let generatedCode: Readonly<Record<string, ValidateFunction>> | undefined;
let ajv: AjvModule.Ajv | undefined;

function generated(): Readonly<Record<string, ValidateFunction>> {
  if (generatedCode === undefined) {
    try {
      generatedCode = load('./schemas.compiled.cjs') as Record<string, ValidateFunction>;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw error;
      generatedCode = {};
    }
  }
  return generatedCode;
}

function compileWithAjv<T>(schema: JSONSchemaType<T>): ValidateFunction<T> {
  // The build checks the schemas against ajv's meta-schema; compiling that here would cost ~40 ms.
  ajv ??= new (load('ajv') as typeof AjvModule).Ajv({ ...AJV_OPTIONS, validateSchema: false });
  return ajv.compile(schema);
}

export type Checked<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly field: string; readonly message: string };

/** Validates `data` found at path `at` (`''` for the root, `'spec'`, …). */
export function check<T>(validator: LazyValidator<T>, data: unknown, at: string): Checked<T> {
  const validate = validator();
  if (validate(data)) return { ok: true, value: data };
  if (data === undefined) return { ok: false, field: at, message: 'is required' };
  const error = validate.errors?.[0];
  if (error === undefined) return { ok: false, field: at, message: 'does not match its schema' };
  return describeError(error, at);
}

function describeError(error: ErrorObject, at: string): Checked<never> {
  const field = pointerPath(error.instancePath, at);
  const params: Record<string, unknown> = error.params;
  switch (error.keyword) {
    case 'required':
      return { ok: false, field: joinPath(field, String(params.missingProperty)), message: 'is required' };
    case 'enum': {
      const allowed = Array.isArray(params.allowedValues) ? params.allowedValues.filter((v) => v !== null) : [];
      return { ok: false, field, message: `must be one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}, got ${describeValue(error.data)}` };
    }
    case 'type': {
      const types = (Array.isArray(params.type) ? params.type : [params.type]).filter((t) => t !== 'null');
      return { ok: false, field, message: `must be ${types.map((t) => article(String(t))).join(' or ')}, got ${describeValue(error.data)}` };
    }
    default:
      return { ok: false, field, message: `${error.message ?? 'is not valid'}, got ${describeValue(error.data)}` };
  }
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

/** `/spec/allocations/3` under `''` → `spec.allocations[3]`. */
export function pointerPath(pointer: string, at: string): string {
  if (pointer === '') return at;
  return pointer
    .slice(1)
    .split('/')
    .map((segment) => segment.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce(joinPath, at);
}

/** Appends one property name or array index to a field path. */
export function joinPath(path: string, segment: string | number): string {
  if (typeof segment === 'number' || /^(0|[1-9][0-9]*)$/.test(segment)) return `${path}[${segment}]`;
  if (/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(segment)) return path === '' ? segment : `${path}.${segment}`;
  return `${path}[${JSON.stringify(segment)}]`;
}
