#!/usr/bin/env node
// Builds the oneDNN N-API addon (native/onednn) when oneDNN and a C++ compiler are present.
// Run by the root package's `install` script (so `npm ci` builds it) and by hand: `node native/build.mjs`.
// Never fails the install: without oneDNN it says so loudly and the runtime falls back (also loudly)
// to the pure-JavaScript/wasm backends. Uses the machine's own Node headers (no header download):
// <prefix>/include/node next to the running node binary, or $npm_config_nodedir/include/node.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const outDir = join(here, 'onednn', 'build');
const out = join(outDir, 'nnuc_onednn.node');
const src = join(here, 'onednn', 'src', 'addon.cc');
const force = process.argv.includes('--force');
const quiet = process.argv.includes('--quiet');

function banner(lines) {
  const bar = '!'.repeat(78);
  console.warn([bar, ...lines.map((l) => `!! ${l}`), bar].join('\n'));
}

function findNodeInclude() {
  const cands = [];
  if (process.env.npm_config_nodedir) cands.push(join(process.env.npm_config_nodedir, 'include', 'node'));
  cands.push(resolve(dirname(process.execPath), '..', 'include', 'node'));
  cands.push('/usr/include/node', '/usr/local/include/node');
  return cands.find((d) => existsSync(join(d, 'node_api.h')));
}

function findDnnl() {
  const incs = [process.env.DNNL_INCLUDE_DIR, '/usr/include', '/usr/local/include', '/opt/intel/oneapi/dnnl/latest/include'].filter(Boolean);
  const inc = incs.find((d) => existsSync(join(d, 'oneapi', 'dnnl', 'dnnl.hpp')) || existsSync(join(d, 'dnnl.hpp')));
  if (!inc) return undefined;
  const libs = [process.env.DNNL_LIB_DIR, '/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib', '/usr/local/lib'].filter(Boolean);
  const lib = libs.find((d) => existsSync(join(d, 'libdnnl.so')) || existsSync(join(d, 'libdnnl.dylib')));
  return lib ? { inc, lib } : undefined;
}

function main() {
  if (process.env.NNUC_NATIVE === '0') {
    banner(['nnuc: NNUC_NATIVE=0: the oneDNN addon is NOT built; CPU training will use the slower wasm fallback.']);
    return 0;
  }
  const srcHash = createHash('sha256').update(readFileSync(src)).update(process.version).digest('hex');
  const infoFile = join(outDir, 'build-info.json');
  let builtHash;
  try { builtHash = JSON.parse(readFileSync(infoFile, 'utf8')).srcHash; } catch { builtHash = undefined; }
  if (existsSync(out) && !force && builtHash === srcHash) {
    if (!quiet) console.log(`nnuc: oneDNN addon up to date (${out}); --force rebuilds`);
    return 0;
  }
  const dnnl = process.env.NNUC_NATIVE === '0' ? undefined : findDnnl();
  if (!dnnl) {
    banner([
      'nnuc: oneDNN (libdnnl-dev) not found: the fast native CPU backend is NOT built.',
      'Training on CPU will use the much slower pure-JS/wasm fallback (about 10x slower).',
      'Fix: apt-get install libdnnl-dev  (or scripts/install-system-deps.sh as root), then',
      '     node native/build.mjs',
    ]);
    return 0;
  }
  const nodeInc = findNodeInclude();
  if (!nodeInc) {
    banner(['nnuc: Node headers (node_api.h) not found: the oneDNN addon is NOT built.',
      'Set npm_config_nodedir to the prefix that holds include/node, then node native/build.mjs']);
    return 0;
  }
  const require = createRequire(join(root, 'package.json'));
  let napiInc;
  try { napiInc = require('node-addon-api').include_dir; } catch { napiInc = undefined; }
  if (napiInc && !napiInc.startsWith('/')) napiInc = join(root, napiInc);
  if (!napiInc || !existsSync(join(napiInc, 'napi.h'))) napiInc = join(root, 'node_modules', 'node-addon-api');
  const cxx = process.env.CXX || 'g++';
  mkdirSync(outDir, { recursive: true });
  const tmp = `${out}.${process.pid}.tmp`;
  const args = ['-O3', '-std=c++17', '-shared', '-fPIC', '-fopenmp', '-march=x86-64-v2', '-DNAPI_VERSION=8',
    '-DNAPI_CPP_EXCEPTIONS', '-DNODE_ADDON_API_DISABLE_DEPRECATED', '-fexceptions',
    `-I${nodeInc}`, `-I${napiInc}`, `-I${dnnl.inc}`, src, `-L${dnnl.lib}`, `-Wl,-rpath,${dnnl.lib}`, '-ldnnl', '-o', tmp];
  if (process.arch !== 'x64') args.splice(args.indexOf('-march=x86-64-v2'), 1);
  if (!quiet) console.log(`nnuc: building the oneDNN addon: ${cxx} ${args.join(' ')}`);
  const r = spawnSync(cxx, args, { stdio: 'inherit' });
  if (r.status !== 0) {
    rmSync(tmp, { force: true });
    banner([`nnuc: building the oneDNN addon FAILED (${cxx} exit ${r.status ?? r.error?.message}).`,
      'Training on CPU will use the slower pure-JS/wasm fallback. Rebuild: node native/build.mjs --force']);
    return 0;
  }
  renameSync(tmp, out);
  writeFileSync(infoFile, JSON.stringify({ srcHash, dnnl, nodeInc, cxx, node: process.version, builtAt: new Date().toISOString() }, null, 2) + '\n');
  console.log(`nnuc: oneDNN addon built: ${out}`);
  return 0;
}

process.exitCode = main();
