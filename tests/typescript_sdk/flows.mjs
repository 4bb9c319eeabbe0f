// The reference flows with the official TypeScript SDK (@anthropic-ai/sdk, a client generated
// independently of the Python one) against the emulator in strict mode: every request must
// carry exactly that SDK's version and betas. Run by tests/typescript_sdk/run.sh with
// ANTHROPIC_BASE_URL and ANTHROPIC_API_KEY set; exits 1 if a check fails.
import Anthropic, { toFile, NotFoundError, BadRequestError } from '@anthropic-ai/sdk';

const client = new Anthropic(); // ANTHROPIC_API_KEY and ANTHROPIC_BASE_URL from the environment
let failed = 0;
let passed = 0;
function check(name, ok) {
  if (ok) passed++;
  else failed++;
  console.log((ok ? 'ok   ' : 'FAIL ') + name);
}

const environment = await client.beta.environments.create({
  name: 'ts-env',
  config: { type: 'cloud', networking: { type: 'unrestricted' } },
});
check('environment created', environment.id.startsWith('env_'));

const agent = await client.beta.agents.create({
  name: 'Code Reviewer',
  model: 'claude-opus-4-5',
  system: 'You are a senior code reviewer.',
  tools: [
    { type: 'agent_toolset_20260401' },
    {
      type: 'custom',
      name: 'run_tests',
      description: 'Run the test suite',
      input_schema: { type: 'object', properties: { test_path: { type: 'string' } } },
    },
  ],
});
const session = await client.beta.sessions.create({
  agent: { type: 'agent', id: agent.id, version: agent.version },
  environment_id: environment.id,
  title: 'TypeScript session',
});
check('session created idle', session.status === 'idle');

// stream first, then send; answer the custom tool; read the text
const texts = [];
const tools = [];
let message = 'Review the auth module';
for (;;) {
  const stream = await client.beta.sessions.events.stream(session.id);
  if (message !== null) {
    await client.beta.sessions.events.send(session.id, {
      events: [{ type: 'user.message', content: [{ type: 'text', text: message }] }],
    });
    message = null;
  }
  const calls = [];
  for await (const event of stream) {
    if (event.type === 'agent.message') {
      for (const block of event.content) if (block.type === 'text') texts.push(block.text);
    } else if (event.type === 'agent.custom_tool_use') {
      calls.push(event);
    } else if (event.type === 'session.status_idle' || event.type === 'session.status_terminated') {
      break;
    }
  }
  if (calls.length === 0) break;
  for (const call of calls) tools.push(call.name);
  await client.beta.sessions.events.send(session.id, {
    events: calls.map((call) => ({
      type: 'user.custom_tool_result',
      custom_tool_use_id: call.id,
      content: [{ type: 'text', text: 'All tests passed.' }],
    })),
  });
}
check('streamed the agent\'s text', texts.some((t) => t.includes('Review the auth module')));
check('answered the custom tool', tools.length === 1 && tools[0] === 'run_tests');
check('the tool result came back', texts.some((t) => t.includes('All tests passed.')));

const events = await client.beta.sessions.events.list(session.id);
const kinds = events.data.map((e) => e.type);
check('poll events', kinds.includes('agent.custom_tool_use') && kinds.includes('user.custom_tool_result'));

// files: upload, list a session's, an uploaded file does not download
const file = await client.beta.files.upload({ file: await toFile(Buffer.from('a,b\n1,2\n'), 'data.csv') });
check('uploaded a file', file.size_bytes === 8);
const listed = await client.beta.files.list({ scope_id: session.id, betas: ['managed-agents-2026-04-01'] });
check('list session files', Array.isArray(listed.data));
try {
  await client.beta.files.download(file.id);
  check('an uploaded file does not download', false);
} catch (e) {
  check('an uploaded file does not download', e instanceof BadRequestError);
}

// memory stores speak their own beta
const store = await client.beta.memoryStores.create({ name: 'notes' });
const stores = await client.beta.memoryStores.list();
check('memory store created and listed', stores.data.some((s) => s.id === store.id));

// session management
const got = await client.beta.sessions.retrieve(session.id);
check('retrieve a session', got.id === session.id);
await client.beta.sessions.archive(session.id);
await client.beta.sessions.delete(session.id);
try {
  await client.beta.sessions.retrieve(session.id);
  check('a deleted session is gone', false);
} catch (e) {
  check('a deleted session is gone', e instanceof NotFoundError);
}

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
