// The official TypeScript SDK's side of benches/stream_open.sh: how long
// `client.beta.sessions.events.stream(..)` takes to open, and how long from sending a message to
// the stream's first event, as benches/stream_open.rs measures ours.
//   node benches/ts/stream_open.mjs SDK_DIR URL RUNS
// Prints one JSON object: `open_ms` and `first_ms` of each run, after one warm-up run.
import { createRequire } from 'node:module';

const [sdkDir, url, runsArg] = process.argv.slice(2);
const runs = Number(runsArg);
const require = createRequire(sdkDir.replace(/\/?$/, '/'));
const sdk = require('@anthropic-ai/sdk');
const Anthropic = sdk.default ?? sdk.Anthropic;
const client = new Anthropic({ apiKey: 'k', baseURL: url, maxRetries: 0 });

const environment = await client.beta.environments.create({
  name: 'stream-open',
  config: { type: 'cloud', networking: { type: 'unrestricted' } },
});
const agent = await client.beta.agents.create({ name: 'A', model: 'claude-opus-4-5' });
const openMs = [];
const firstMs = [];
for (let run = 0; run <= runs; run++) {
  const session = await client.beta.sessions.create({
    agent: { type: 'agent', id: agent.id, version: agent.version },
    environment_id: environment.id,
  });
  const started = performance.now();
  const stream = await client.beta.sessions.events.stream(session.id);
  const open = performance.now() - started;
  const sent = performance.now();
  await client.beta.sessions.events.send(session.id, {
    events: [{ type: 'user.message', content: [{ type: 'text', text: 'hello' }] }],
  });
  let first;
  for await (const event of stream) {
    if (first === undefined) first = performance.now() - sent;
    if (event.type === 'session.status_idle' || event.type === 'session.status_terminated') break;
  }
  if (run > 0) {
    openMs.push(open);
    firstMs.push(first ?? 0);
  }
}
console.log(JSON.stringify({ open_ms: openMs, first_ms: firstMs }));
