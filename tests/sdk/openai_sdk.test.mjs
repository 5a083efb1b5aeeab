// The official OpenAI SDK for Node.js as a real client of tandem-llm (the Linux service binary,
// started as in tests/posix, on the bundled tiny random-weight model): what an app built on it
// sends must work, and what Tandem does not honour must fail the way OpenAI's API fails.
// Run by CTest: node --test, with TANDEM_LLM_EXE and OPENAI_SDK_DIR set.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, watch, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const require = createRequire(join(process.env.OPENAI_SDK_DIR, 'package.json'));
const { OpenAI, BadRequestError } = require('openai');

const dir = mkdtempSync(join(tmpdir(), 'tandem-sdk-'));
let server;
let client;

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// Resolves with the published URL once the runtime file says ready: waits on the folder's
// change notifications (inotify), bounded; never polls.
function waitReady(runtime, exited, boundMs) {
  const file = join(runtime, 'llm-server.json');
  return new Promise((resolve, reject) => {
    const check = () => {
      try {
        const published = JSON.parse(readFileSync(file, 'utf8'));
        if (published.state === 'ready') return finish(null, published.url);
      } catch {
        // not there yet, or being replaced
      }
    };
    const watcher = watch(runtime, check);
    const timer = setTimeout(() => finish(new Error(`tandem-llm not ready within ${boundMs} ms`)),
                             boundMs);
    exited.then((code) => finish(new Error(`tandem-llm exited with ${code} before ready`)));
    let done = false;
    function finish(error, url) {
      if (done) return;
      done = true;
      watcher.close();
      clearTimeout(timer);
      error ? reject(error) : resolve(url);
    }
    check();
  });
}

before(async () => {
  const port = await freePort();
  const config = join(dir, 'llm-server.json');
  writeFileSync(config, JSON.stringify({ port, port_range: 1, parallel: 2, ctx_size: 512,
                                         threads: 1 }));
  const runtime = join(dir, 'run');
  mkdirSync(runtime, { recursive: true });
  server = spawn(process.env.TANDEM_LLM_EXE, ['--config', config], {
    env: { ...process.env, TANDEM_RUNTIME_DIR: runtime, TANDEM_DATA_DIR: join(dir, 'data'),
           LOGS_DIRECTORY: join(dir, 'logs') },
    stdio: 'ignore',
  });
  const exited = new Promise((resolve) => server.once('exit', resolve));
  const url = await waitReady(runtime, exited, 120000);
  client = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'unused', maxRetries: 0 });
});

after(async () => {
  if (server && server.exitCode === null) {
    const exited = new Promise((resolve) => server.once('exit', resolve));
    server.kill('SIGTERM');
    await exited;
  }
  rmSync(dir, { recursive: true, force: true });
});

const user = [{ role: 'user', content: 'Say something.' }];

test('lists the model', async () => {
  const models = await client.models.list();
  assert.deepEqual(models.data.map((m) => m.id), ['tandem-tiny']);
});

test('a chat completion, and the same text streamed', async () => {
  const whole = await client.chat.completions.create(
    { model: 'tandem-tiny', messages: user, max_tokens: 8, temperature: 0 });
  const choice = whole.choices[0];
  assert.equal(choice.message.role, 'assistant');
  assert.equal(typeof choice.message.content, 'string');
  assert.ok(['stop', 'length'].includes(choice.finish_reason));
  assert.ok(whole.usage.prompt_tokens > 0);

  const stream = await client.chat.completions.create(
    { model: 'tandem-tiny', messages: user, max_tokens: 8, temperature: 0, stream: true,
      stream_options: { include_usage: true } });
  let text = '';
  let usage = null;
  for await (const chunk of stream) {
    if (chunk.choices.length) text += chunk.choices[0].delta.content ?? '';
    if (chunk.usage) usage = chunk.usage;
  }
  assert.equal(text, choice.message.content);
  assert.deepEqual(usage, whole.usage);
});

test('a completion with logprobs', async () => {
  const r = await client.completions.create(
    { model: 'tandem-tiny', prompt: 'Once upon a time', max_tokens: 4, temperature: 0,
      logprobs: 2 });
  const lp = r.choices[0].logprobs;
  assert.equal(lp.tokens.join(''), r.choices[0].text);
  for (const value of lp.token_logprobs) assert.ok(value <= 0);
  for (const top of lp.top_logprobs) assert.equal(Object.keys(top).length, 2);
});

test('sampling arguments are honoured: a +100 logit_bias forces its token', async () => {
  const plain = await client.completions.create(
    { model: 'tandem-tiny', prompt: 'Once', max_tokens: 3, temperature: 0 });
  const forced = await client.completions.create(
    { model: 'tandem-tiny', prompt: 'Once', max_tokens: 3, temperature: 0,
      logit_bias: { 1000: 100 }, presence_penalty: 0.5, frequency_penalty: 0.5 });
  const piece = forced.choices[0].text.slice(0, forced.choices[0].text.length / 3);
  assert.equal(forced.choices[0].text, piece.repeat(3));
  assert.notEqual(forced.choices[0].text, plain.choices[0].text);
});

test('an argument Tandem does not honour fails as OpenAI fails, naming it', async () => {
  await assert.rejects(
    client.chat.completions.create(
      { model: 'tandem-tiny', messages: user, reasoning_effort: 'low' }),
    (e) => e instanceof BadRequestError && e.status === 400 && e.param === 'reasoning_effort');
  await assert.rejects(  // more choices than the server's 2 parallel slots
    client.chat.completions.create({ model: 'tandem-tiny', messages: user, n: 3 }),
    (e) => e instanceof BadRequestError && e.param === 'n');
  await assert.rejects(
    client.chat.completions.create({ model: 'tandem-tiny', messages: user, temprature: 0 }),
    (e) => e instanceof BadRequestError && e.param === 'temprature' &&
           e.code === 'unknown_argument');
});

// Every string bounded (enum, maxLength): random weights end a bounded answer well within budget.
const orderSchema = {
  type: 'object',
  properties: {
    size: { enum: ['small', 'large'] },
    count: { type: 'integer' },
    items: { type: 'array', minItems: 1, maxItems: 2,
             items: { type: 'object', properties: { kind: { enum: ['tea', 'cake'] } },
                      required: ['kind'] } },
  },
  required: ['size', 'count', 'items'],
};

test('structured output: the SDK parses an answer that follows the schema', async () => {
  const r = await client.chat.completions.parse({
    model: 'tandem-tiny', messages: user, max_tokens: 200, temperature: 0,
    response_format: { type: 'json_schema',
                       json_schema: { name: 'order', strict: true, schema: orderSchema } } });
  const parsed = r.choices[0].message.parsed;
  assert.equal(r.choices[0].finish_reason, 'stop');
  assert.ok(['small', 'large'].includes(parsed.size), JSON.stringify(parsed));
  assert.ok(Number.isInteger(parsed.count), JSON.stringify(parsed));
  assert.ok(parsed.items.length >= 1 && parsed.items.length <= 2, JSON.stringify(parsed));
  for (const item of parsed.items) assert.ok(['tea', 'cake'].includes(item.kind));
});

const weather = {
  type: 'function',
  function: { name: 'get_weather', description: 'The weather in a city',
              parameters: { type: 'object', properties: { city: { enum: ['Paris', 'Oslo'] } },
                            required: ['city'] } },
};

test('tools: a forced call, its result fed back, and the same call streamed', async () => {
  const ask = { model: 'tandem-tiny', messages: user, tools: [weather], tool_choice: 'required',
                max_tokens: 200, temperature: 0 };
  const r = await client.chat.completions.create(ask);
  const message = r.choices[0].message;
  assert.equal(r.choices[0].finish_reason, 'tool_calls');
  const call = message.tool_calls[0];
  assert.equal(call.function.name, 'get_weather');
  assert.ok(['Paris', 'Oslo'].includes(JSON.parse(call.function.arguments).city));

  const next = await client.chat.completions.create({
    model: 'tandem-tiny', max_tokens: 4, temperature: 0, tools: [weather],
    messages: [...user, message, { role: 'tool', tool_call_id: call.id, content: 'Sunny' }] });
  assert.equal(typeof next.choices[0].message.content, 'string');

  const stream = await client.chat.completions.create({ ...ask, stream: true });
  let args = '';
  let name = '';
  let finish = null;
  for await (const chunk of stream) {
    const choice = chunk.choices[0];
    for (const t of choice?.delta?.tool_calls ?? []) {
      name += t.function?.name ?? '';
      args += t.function?.arguments ?? '';
    }
    finish = choice?.finish_reason ?? finish;
  }
  assert.equal(name, 'get_weather');
  assert.equal(args, call.function.arguments);
  assert.equal(finish, 'tool_calls');
});

test('embeddings: float, and base64 the SDK decodes itself', async () => {
  const input = ['The cat sat on the mat.', 'Stock prices fell.', 'The cat sat on the mat.'];
  const floats = await client.embeddings.create(
    { model: 'tandem-tiny', input, encoding_format: 'float' });
  assert.equal(floats.object, 'list');
  assert.deepEqual(floats.data.map((d) => d.index), [0, 1, 2]);
  for (const d of floats.data) {
    assert.equal(d.embedding.length, 64);
    const norm = Math.sqrt(d.embedding.reduce((s, x) => s + x * x, 0));
    assert.ok(Math.abs(norm - 1) < 1e-5, `norm ${norm}`);
  }
  assert.deepEqual(floats.data[0].embedding, floats.data[2].embedding);
  assert.notDeepEqual(floats.data[0].embedding, floats.data[1].embedding);
  assert.ok(floats.usage.prompt_tokens > 0);
  assert.equal(floats.usage.total_tokens, floats.usage.prompt_tokens);

  // Without encoding_format the SDK asks for base64 and decodes the float32 bytes.
  const decoded = await client.embeddings.create({ model: 'tandem-tiny', input });
  assert.deepEqual(decoded.data.map((d) => d.embedding), floats.data.map((d) => d.embedding));
  const raw = await client.embeddings.create(
    { model: 'tandem-tiny', input: input[1], encoding_format: 'base64' });
  assert.equal(typeof raw.data[0].embedding, 'string');
  assert.equal(Buffer.from(raw.data[0].embedding, 'base64').length, 64 * 4);

  await assert.rejects(
    client.embeddings.create({ model: 'tandem-tiny', input: 'x', dimensions: 32 }),
    (e) => e instanceof BadRequestError && e.param === 'dimensions');
});

test('n choices: seeded ones differ, greedy ones are equal, streamed by index', async () => {
  const seeded = await client.chat.completions.create(
    { model: 'tandem-tiny', messages: user, n: 2, max_tokens: 8, temperature: 1, seed: 5 });
  assert.deepEqual(seeded.choices.map((c) => c.index), [0, 1]);
  assert.notEqual(seeded.choices[0].message.content, seeded.choices[1].message.content);
  const greedy = await client.completions.create(
    { model: 'tandem-tiny', prompt: 'Once upon a time', n: 2, max_tokens: 6, temperature: 0 });
  assert.equal(greedy.choices[0].text, greedy.choices[1].text);
  assert.equal(greedy.usage.completion_tokens, 12);

  const stream = await client.chat.completions.create(
    { model: 'tandem-tiny', messages: user, n: 2, max_tokens: 8, temperature: 1, seed: 5,
      stream: true });
  const texts = ['', ''];
  for await (const chunk of stream) {
    for (const c of chunk.choices) texts[c.index] += c.delta.content ?? '';
  }
  assert.deepEqual(texts, seeded.choices.map((c) => c.message.content));
});
