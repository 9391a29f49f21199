// Module resolution hook of `nnuc run` (cli/commands/run.ts): generated modules import the runtime's public
// API as `nnuc/runtime`; wherever the build folder lives on disk, this maps that one specifier to this
// checkout's runtime/api.ts. Every other specifier resolves as usual (tsx, then Node).
let runtimeUrl = null;

export function initialize(data) {
  runtimeUrl = data.runtimeUrl;
}

export async function resolve(specifier, context, nextResolve) {
  if (specifier === 'nnuc/runtime' && runtimeUrl) return nextResolve(runtimeUrl, context);
  return nextResolve(specifier, context);
}
