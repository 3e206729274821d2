// The official OpenAI Node client against dine's HTTP front door
// (docs/http.md): lists models, completes, streams, chats, and sees a 404
// for an unknown model; with API_KEY, a wrong key gets the client's
// AuthenticationError (401). Run by check_openai.sh.
//   node openai_client.cjs BASE_URL [API_KEY]  (OPENAI_MODULE: the package)
'use strict';
const assert = require('assert');
const OpenAI = require(process.env.OPENAI_MODULE);

const client = new OpenAI({
  baseURL: process.argv[2],
  apiKey: process.argv[3] || 'unused',
  maxRetries: 0,
  timeout: 120000,
});
const model = 'transformer';

async function main() {
  const ids = [];
  for await (const m of client.models.list()) ids.push(m.id);
  assert(ids.includes(model), `models: ${ids}`);

  const req = { model, prompt: 'Once upon a time', max_tokens: 10,
                temperature: 0 };
  const whole = await client.completions.create(req);
  assert.strictEqual(whole.object, 'text_completion');
  assert(whole.usage.completion_tokens >= 1);
  const text = whole.choices[0].text;

  let streamed = '';
  let chunks = 0;
  let finish = null;
  for await (const ch of await client.completions.create({ ...req,
                                                          stream: true })) {
    chunks++;
    streamed += ch.choices[0].text;
    if (ch.choices[0].finish_reason) finish = ch.choices[0].finish_reason;
  }
  assert(chunks >= 2, `chunks: ${chunks}`);
  assert.strictEqual(streamed, text);
  assert(finish === 'stop' || finish === 'length', `finish: ${finish}`);

  const creq = { model, max_tokens: 8, temperature: 0,
                 messages: [{ role: 'system', content: 'be brief' },
                            { role: 'user', content: 'Hello' }] };
  const chat = await client.chat.completions.create(creq);
  assert.strictEqual(chat.choices[0].message.role, 'assistant');
  let delta = '';
  let role = null;
  for await (const ch of await client.chat.completions.create({ ...creq,
                                                               stream: true })) {
    const d = ch.choices[0].delta;
    if (d.role) role = d.role;
    delta += d.content || '';
  }
  assert.strictEqual(role, 'assistant');
  assert.strictEqual(delta, chat.choices[0].message.content);

  await assert.rejects(
      client.completions.create({ model: 'no-such-model', prompt: 'x' }),
      (e) => e.status === 404 && e.code === 'unknown_model');
  if (process.argv[3]) {
    const stranger = new OpenAI({ baseURL: process.argv[2], maxRetries: 0,
                                  apiKey: process.argv[3] + 'x' });
    await assert.rejects(
        stranger.completions.create(req),
        (e) => e instanceof OpenAI.AuthenticationError && e.status === 401 &&
               e.code === 'unauthorized');
    await assert.rejects(stranger.models.list(), (e) => e.status === 401);
  }
  console.log(`openai client: ok (${ids.length} models, ${chunks} chunks, ` +
              `text ${JSON.stringify(text)})`);
}

main().catch((e) => {
  console.error('openai client: FAILED:', e);
  process.exit(1);
});
