// The official openai Node SDK against a packaged gateway started by `bin/cleargate test`
// (CLEARGATE_URL, CLEARGATE_KEY): chat, streaming, tool-call round trips, structured output,
// log probabilities and embeddings, as a Node application would use them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';

const client = new OpenAI({
  baseURL: process.env.CLEARGATE_URL.replace(/\/$/, '') + '/v1',
  apiKey: process.env.CLEARGATE_KEY ?? 'none',
  maxRetries: 0,
  timeout: 60_000,
});
const MODEL = process.env.CLEARGATE_MODEL ?? 'mock';
const EMBED = process.env.CLEARGATE_EMBEDDING_MODEL ?? 'mock-embed';
const WEATHER = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Current weather for a city',
    parameters: { type: 'object', properties: { query: { type: 'string' } }, required: ['query'] },
  },
};
const SEARCH = { type: 'function', function: { name: 'search_documents', parameters: { type: 'object' } } };

/** Accumulates a stream: text, tool calls by index, finish reason, extra members, logprobs. */
async function collect(stream) {
  let text = '';
  let finish = null;
  const calls = new Map();
  const extras = {};
  const logprobs = [];
  for await (const chunk of stream) {
    for (const [k, v] of Object.entries(chunk)) {
      if (k.startsWith('cleargate_')) extras[k] = v;
    }
    for (const choice of chunk.choices) {
      if (choice.delta.content) text += choice.delta.content;
      for (const call of choice.delta.tool_calls ?? []) {
        const slot = calls.get(call.index) ?? { id: null, name: null, arguments: '' };
        if (call.id) slot.id = call.id;
        if (call.function?.name) slot.name = call.function.name;
        if (call.function?.arguments) slot.arguments += call.function.arguments;
        calls.set(call.index, slot);
      }
      if (choice.logprobs?.content) logprobs.push(...choice.logprobs.content);
      if (choice.finish_reason) finish = choice.finish_reason;
    }
  }
  return { text, finish, extras, logprobs, calls: [...calls.keys()].sort().map((i) => calls.get(i)) };
}

test('a plain completion and a stream are parsed', async () => {
  const completion = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hi' }] });
  assert.equal(completion.object, 'chat.completion');
  assert.ok(completion.choices[0].message.content.length > 0);
  const streamed = await collect(await client.chat.completions.create({
    model: MODEL, stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'hi' }],
  }));
  assert.ok(streamed.text.length > 0);
  assert.equal(streamed.finish, 'stop');
});

test('a tool call round trip without streaming', async () => {
  const messages = [{ role: 'user', content: 'weather in Paris' }];
  const first = await client.chat.completions.create({ model: MODEL, messages, tools: [WEATHER] });
  const choice = first.choices[0];
  assert.equal(choice.finish_reason, 'tool_calls');
  const call = choice.message.tool_calls[0];
  assert.equal(call.function.name, 'get_weather');
  assert.deepEqual(JSON.parse(call.function.arguments), { query: 'weather in Paris' });
  messages.push(choice.message, { role: 'tool', tool_call_id: call.id, content: 'sunny' });
  const second = await client.chat.completions.create({ model: MODEL, messages, tools: [WEATHER] });
  assert.equal(second.choices[0].message.content, 'Tool result: sunny');
});

test('a tool call round trip with streaming, through the SDK stream helper', async () => {
  const runner = client.chat.completions.stream({
    model: MODEL, messages: [{ role: 'user', content: 'weather in Oslo' }], tools: [WEATHER],
  });
  const final = await runner.finalChatCompletion();
  const call = final.choices[0].message.tool_calls[0];
  assert.equal(final.choices[0].finish_reason, 'tool_calls');
  assert.equal(call.function.name, 'get_weather');
  assert.deepEqual(JSON.parse(call.function.arguments), { query: 'weather in Oslo' });
  const second = await collect(await client.chat.completions.create({
    model: MODEL, stream: true, tools: [WEATHER], messages: [
      { role: 'user', content: 'weather in Oslo' },
      { role: 'assistant', content: null, tool_calls: [call] },
      { role: 'tool', tool_call_id: call.id, content: 'snow' },
    ],
  }));
  assert.equal(second.text, 'Tool result: snow');
});

test('parallel tool calls keep their indexes', async () => {
  const streamed = await collect(await client.chat.completions.create({
    model: MODEL, stream: true, tools: [WEATHER, SEARCH], parallel_tool_calls: true,
    messages: [{ role: 'user', content: 'both in parallel' }],
  }));
  assert.deepEqual(streamed.calls.map((c) => c.name), ['get_weather', 'search_documents']);
});

test('a cloud key in streamed tool arguments is redacted, a private key stops the response', async () => {
  const redacted = await collect(await client.chat.completions.create({
    model: MODEL, stream: true, tools: [WEATHER], messages: [{ role: 'user', content: 'weather leak-key' }],
  }));
  assert.equal(redacted.finish, 'tool_calls');
  assert.ok(!redacted.calls[0].arguments.includes('AKIAIOSFODNN7EXAMPLE'));
  assert.ok(redacted.extras.cleargate_moderation.verdicts.some((v) => v.field === 'tool_calls[0].arguments'));
  const blocked = await client.chat.completions.create({
    model: MODEL, tools: [WEATHER], messages: [{ role: 'user', content: 'weather leak-pem' }],
  });
  assert.equal(blocked.choices[0].finish_reason, 'content_filter');
  assert.ok(!JSON.stringify(blocked).includes('PRIVATE KEY'));
});

test('a malformed tool definition is a 400 naming the field', async () => {
  await assert.rejects(
    client.chat.completions.create({
      model: MODEL, messages: [{ role: 'user', content: 'x' }], tools: [{ type: 'function', function: { name: 'bad name' } }],
    }),
    (error) => error instanceof OpenAI.BadRequestError && error.param === 'tools[0].function.name',
  );
});

test('JSON mode and log probabilities are passed through', async () => {
  const json = await client.chat.completions.create({
    model: MODEL, messages: [{ role: 'user', content: 'json' }], response_format: { type: 'json_object' },
  });
  assert.deepEqual(JSON.parse(json.choices[0].message.content), { answer: 'mock', format: 'json_object' });
  const streamed = await collect(await client.chat.completions.create({
    model: MODEL, stream: true, logprobs: true, top_logprobs: 2, messages: [{ role: 'user', content: 'hello' }],
  }));
  assert.ok(streamed.logprobs.length > 0);
  assert.equal(streamed.logprobs.map((t) => t.token).join(''), streamed.text);
  assert.ok(streamed.logprobs.every((t) => t.top_logprobs.length === 2));
});

test('embeddings come back as floats and as base64 (the SDK default)', async () => {
  const floats = await client.embeddings.create({ model: EMBED, input: ['first', 'second'], encoding_format: 'float' });
  assert.equal(floats.data.length, 2);
  assert.equal(floats.data[0].embedding.length, 8);
  const base64 = await client.embeddings.create({ model: EMBED, input: ['first', 'second'] });
  floats.data.forEach((d, i) => d.embedding.forEach((x, j) => assert.ok(Math.abs(x - base64.data[i].embedding[j]) < 1e-6)));
  await assert.rejects(client.embeddings.create({ model: 'no-such-embedder', input: 'x' }),
    (error) => error instanceof OpenAI.NotFoundError && error.code === 'model_not_found');
});

test('several choices come back with their indexes, streamed and not', async () => {
  const messages = [{ role: 'user', content: 'hello' }];
  const completion = await client.chat.completions.create({ model: MODEL, n: 2, messages });
  assert.deepEqual(completion.choices.map((c) => c.index), [0, 1]);
  assert.ok(completion.choices.every((c) => c.message.content.length > 0 && c.finish_reason === 'stop'));
  const texts = {};
  const finishes = {};
  for await (const chunk of await client.chat.completions.create({ model: MODEL, n: 2, stream: true, messages })) {
    for (const choice of chunk.choices) {
      texts[choice.index] = (texts[choice.index] ?? '') + (choice.delta.content ?? '');
      if (choice.finish_reason) finishes[choice.index] = choice.finish_reason;
    }
  }
  assert.deepEqual(Object.keys(texts), ['0', '1']);
  assert.equal(texts[0], texts[1]);
  assert.deepEqual(finishes, { 0: 'stop', 1: 'stop' });
  await assert.rejects(client.chat.completions.create({ model: MODEL, n: 9, messages }),
    (err) => err.status === 400 && err.param === 'n');
});
