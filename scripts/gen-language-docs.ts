/**
 * Regenerates the reference part of docs/language.md (key tables, builtins, diagnostics with checked
 * examples) from compiler/schema, compiler/builtins and grammar/diagnostics.
 *   node --import tsx scripts/gen-language-docs.ts
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUILTINS } from '../compiler/builtins/index.js';
import { updateLanguageDoc } from '../compiler/check/reference.js';

const path = join(dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'language.md');
writeFileSync(path, updateLanguageDoc(readFileSync(path, 'utf8'), BUILTINS));
console.log('updated docs/language.md');
