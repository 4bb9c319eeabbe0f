// The official TypeScript SDK's EnvironmentWorker serving a self-hosted environment on the
// emulator, for benches/worker.rs: `node worker.mjs SDK_DIR URL ENV CONCURRENCY`. Runs
// CONCURRENCY workers in this process (the SDK's worker serves one item at a time) with the
// SDK's default tools, each item ended once its session is idle, until stdin closes; then
// prints `peak_rss_kb peak_threads` of this process (VmHWM and Threads of /proc/self/status,
// sampled every 5 ms).
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { setMaxListeners } from 'node:events';

const [sdkDir, url, environmentId, concurrency] = process.argv.slice(2);
const sdk = await import(pathToFileURL(join(sdkDir, 'node_modules/@anthropic-ai/sdk/index.mjs')).href);
const Anthropic = sdk.default ?? sdk.Anthropic;

const status = (field) => {
  const line = readFileSync('/proc/self/status', 'utf8').split('\n').find((l) => l.startsWith(field + ':'));
  return line ? Number(line.split(/\s+/)[1]) : 0;
};
let peakThreads = 0;
const sampler = setInterval(() => {
  peakThreads = Math.max(peakThreads, status('Threads'));
}, 5);

const client = new Anthropic({ apiKey: 'bench', baseURL: url, maxRetries: 2 });
const workdir = mkdtempSync(join(tmpdir(), 'bench-ts-worker-'));
const stop = new AbortController();
// every worker listens on the one signal
setMaxListeners(Number(concurrency) * 4 + 10, stop.signal);
process.stdin.on('end', () => stop.abort());
process.stdin.resume();

const runs = [];
for (let i = 0; i < Number(concurrency); i++) {
  const worker = client.beta.environments.work.worker({
    environmentId,
    environmentKey: 'bench-environment-key',
    workdir,
    // end an item once its session is idle, as the Rust worker does (the SDK's default keeps
    // serving an idle session for 60 s)
    maxIdleMs: 1,
  });
  runs.push(worker.run(stop.signal).catch((e) => {
    if (!stop.signal.aborted) console.error(`worker ${i}: ${e}`);
  }));
}
await Promise.allSettled(runs);
clearInterval(sampler);
rmSync(workdir, { recursive: true, force: true });
process.stdout.write(`${status('VmHWM')} ${peakThreads}\n`);
process.exit(0);
