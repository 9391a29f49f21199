import { cpus } from 'node:os';

export function cpuDevice(threads?: number): string {
  const c = cpus();
  const model = (c[0]?.model ?? 'unknown CPU').trim();
  return `CPU ${model}, ${threads ?? c.length} thread${(threads ?? c.length) === 1 ? '' : 's'}`;
}
