/**
 * Regenerates grammar/cst.generated.ts and docs/grammar.html from the parser.
 *   node --import tsx scripts/gen-grammar.ts
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateCstTypes, generateGrammarHtml } from '../grammar/generate.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
writeFileSync(join(root, 'grammar', 'cst.generated.ts'), generateCstTypes());
writeFileSync(join(root, 'docs', 'grammar.html'), generateGrammarHtml());
console.log('wrote grammar/cst.generated.ts and docs/grammar.html');
