// The official TypeScript SDK (@anthropic-ai/sdk, on Node) on the same inputs as the Rust
// benchmarks: (a) its SSE decoder over the event log, (b) SSE + JSON.parse per event (what its
// Stream does for each event; the SDK builds no typed objects beyond that), (c)
// `client.beta.sessions.events.stream(..)` from the loopback server replaying the log.
//
// Run by benches/compare.sh, which installs the SDK into a throwaway folder:
//   node benches/ts/compare.mjs SDK_DIR LOG REPLAY_URL
// Prints one JSON object.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';

const [sdkDir, logPath, replayUrl] = process.argv.slice(2);
const require = createRequire(sdkDir.replace(/\/?$/, '/'));
const sdk = require('@anthropic-ai/sdk');
const { Stream } = require('@anthropic-ai/sdk/core/streaming');
const Anthropic = sdk.default ?? sdk.Anthropic;
const version = sdk.VERSION ?? require('@anthropic-ai/sdk/version').VERSION;

const log = readFileSync(logPath);
const mb = log.length / 1e6;

// the log as a fetch Response read in 64 KiB chunks, as a socket would hand it over
function response() {
  let offset = 0;
  const body = new ReadableStream({
    pull(controller) {
      if (offset >= log.length) return controller.close();
      controller.enqueue(new Uint8Array(log.buffer, log.byteOffset + offset, Math.min(65536, log.length - offset)));
      offset += 65536;
    },
  });
  return new Response(body, { headers: { 'content-type': 'text/event-stream' } });
}

async function best(runs, pass) {
  let secs = Infinity, n = 0;
  for (let i = 0; i < runs; i++) {
    const t = process.hrtime.bigint();
    n = await pass();
    secs = Math.min(secs, Number(process.hrtime.bigint() - t) / 1e9);
  }
  return { secs, n };
}

const out = { version };

// (a) SSE decoding alone: the SDK's own decoder (Stream.rawEvents), best of 3
{
  const { secs, n } = await best(3, async () => {
    let n = 0;
    for await (const _ of Stream.rawEvents(response())) n++;
    return n;
  });
  out.sse = { mb_s: mb / secs, events_s: n / secs, events: n };
}

// (b) SSE + JSON.parse per event, skipping what its Stream skips (ping, no event name, no data)
{
  const { secs, n } = await best(3, async () => {
    let n = 0;
    for await (const sse of Stream.rawEvents(response())) {
      if (sse.event === 'ping' || sse.event === null || !sse.data) continue;
      JSON.parse(sse.data);
      n++;
    }
    return n;
  });
  out.typed = { mb_s: mb / secs, events_s: n / secs, events: n };
}

// (c) end to end: sessions.events.stream from the loopback replay server
{
  const client = new Anthropic({ apiKey: 'k', baseURL: replayUrl, maxRetries: 0 });
  const t = process.hrtime.bigint();
  let n = 0;
  const stream = await client.beta.sessions.events.stream('sesn_1');
  for await (const _ of stream) n++;
  const secs = Number(process.hrtime.bigint() - t) / 1e9;
  out.stream = { events_s: n / secs, mb_s: mb / secs, events: n };
}

console.log(JSON.stringify(out));
