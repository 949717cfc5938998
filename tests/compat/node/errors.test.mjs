// Error classes and live/test isolation with the Node SDK.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startVouch, stripeError } from './helpers.mjs';

let server;
let vs;

before(async () => {
  server = await startVouch();
  vs = server.stripe().identity.verificationSessions;
});
after(async () => {
  await server?.stop();
});

test('not found is StripeInvalidRequestError 404', async () => {
  await assert.rejects(
    vs.retrieve('vs_doesnotexist'),
    stripeError({
      type: 'StripeInvalidRequestError',
      rawType: 'invalid_request_error',
      statusCode: 404,
      code: 'resource_missing',
      message: "No such VerificationSession: 'vs_doesnotexist'",
      requestId: /^req_/,
    }),
  );
});

test('not found on update, cancel, redact', async () => {
  for (const call of [
    () => vs.update('vs_doesnotexist', { metadata: { a: 'b' } }),
    () => vs.cancel('vs_doesnotexist'),
    () => vs.redact('vs_doesnotexist'),
  ]) {
    await assert.rejects(
      call,
      stripeError({
        type: 'StripeInvalidRequestError',
        statusCode: 404,
        code: 'resource_missing',
        message: "No such VerificationSession: 'vs_doesnotexist'",
      }),
    );
  }
});

test('bad API key is StripeAuthenticationError 401', async () => {
  const bad = server.stripe('sk_test_thisisnotavalidkey1234').identity.verificationSessions;
  await assert.rejects(
    bad.list(),
    stripeError({
      type: 'StripeAuthenticationError',
      statusCode: 401,
      rawType: 'invalid_request_error',
      message: /Invalid API Key provided/,
    }),
  );
  await assert.rejects(bad.create({ type: 'document' }), (err) => {
    assert.equal(err.type, 'StripeAuthenticationError');
    assert.ok(!err.message.includes('sk_test_thisisnotavalidkey1234'), 'full key must not be echoed');
    return true;
  });
});

test('invalid enum value', async () => {
  await assert.rejects(
    vs.create({ type: 'bogus' }),
    stripeError({
      type: 'StripeInvalidRequestError',
      rawType: 'invalid_request_error',
      statusCode: 400,
      param: 'type',
    }),
  );
});

test('invalid nested enum value', async () => {
  await assert.rejects(
    vs.create({ type: 'document', options: { document: { allowed_types: ['passport', 'library_card'] } } }),
    stripeError({
      type: 'StripeInvalidRequestError',
      statusCode: 400,
      param: /^options\[document\]\[allowed_types\]/,
    }),
  );
});

test('unknown parameter', async () => {
  await assert.rejects(
    vs.create({ type: 'document', favourite_color: 'blue' }),
    stripeError({
      type: 'StripeInvalidRequestError',
      statusCode: 400,
      code: 'parameter_unknown',
      param: 'favourite_color',
      message: /favourite_color/,
    }),
  );
});

test('live key sessions are livemode and isolated from the test key', async () => {
  const live = server.stripe(server.liveKey).identity.verificationSessions;
  const s = await live.create({ type: 'document', client_reference_id: 'live_node' });
  assert.equal(s.livemode, true);
  assert.ok(s.client_secret.startsWith(`${s.id}_secret_`));

  const again = await live.retrieve(s.id);
  assert.equal(again.id, s.id);
  assert.equal(again.livemode, true);

  await assert.rejects(
    vs.retrieve(s.id),
    stripeError({ type: 'StripeInvalidRequestError', statusCode: 404, code: 'resource_missing' }),
  );
  assert.deepEqual((await vs.list({ client_reference_id: 'live_node' })).data, []);

  const t = await vs.create({ type: 'document', client_reference_id: 'test_node' });
  assert.equal(t.livemode, false);
  await assert.rejects(live.retrieve(t.id), stripeError({ statusCode: 404 }));
  const liveList = await live.list({ client_reference_id: 'live_node' });
  assert.deepEqual(liveList.data.map((x) => x.id), [s.id]);
  assert.ok(liveList.data.every((x) => x.livemode === true));
});
