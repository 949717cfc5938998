// Create / retrieve / update / cancel with the official Node SDK (stripe@23.1.0).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startVouch, createParams, stripeError, SESSION_ID_RE } from './helpers.mjs';

let server;
let stripe;

before(async () => {
  server = await startVouch();
  stripe = server.stripe();
});
after(async () => {
  await server?.stop();
});

function assertFreshSession(s, tag) {
  assert.match(s.id, SESSION_ID_RE);
  assert.equal(s.object, 'identity.verification_session');
  assert.equal(s.status, 'requires_input');
  assert.equal(s.type, 'document');
  assert.equal(s.livemode, false);
  assert.equal(typeof s.created, 'number');
  assert.ok(s.created > 1_600_000_000);
  assert.equal(typeof s.client_secret, 'string');
  assert.ok(s.client_secret.startsWith(`${s.id}_secret_`), s.client_secret);
  assert.ok(s.client_secret.length > `${s.id}_secret_`.length);
  assert.equal(typeof s.url, 'string');
  assert.ok(s.url.startsWith(server.base), `${s.url} should start with ${server.base}`);
  assert.equal(s.last_error, null);
  assert.equal(s.last_verification_report, null);
  assert.equal(s.redaction, null);
  assert.deepEqual(Object.keys(s.options), ['document']);
  assert.deepEqual(s.options.document.allowed_types, ['driving_license', 'passport']);
  assert.equal(s.options.document.require_matching_selfie, true);
  assert.deepEqual(s.metadata, { order_id: '42', note: 'hi', tag });
  assert.equal(s.client_reference_id, `user_${tag}`);
  assert.equal(s.related_customer, 'cus_compat123');
  assert.ok(!('provided_details' in s), 'provided_details must not be returned by default');
  assert.ok(!('verified_outputs' in s), 'verified_outputs must not be returned by default');
}

test('create with options', async () => {
  const s = await stripe.identity.verificationSessions.create(createParams('create'));
  assertFreshSession(s, 'create');
});

test('create with expand includes provided_details', async () => {
  const s = await stripe.identity.verificationSessions.create({
    ...createParams('create_expand'),
    expand: ['provided_details'],
  });
  assert.equal(s.provided_details.email, 'a@example.com');
  assert.ok(!('verified_outputs' in s));
});

test('retrieve with and without expand', async () => {
  const s = await stripe.identity.verificationSessions.create(createParams('expand'));

  const plain = await stripe.identity.verificationSessions.retrieve(s.id);
  assert.equal(plain.id, s.id);
  assert.equal(plain.status, 'requires_input');
  assert.ok(!('provided_details' in plain));
  assert.ok(!('verified_outputs' in plain));
  assert.deepEqual(plain.metadata, { order_id: '42', note: 'hi', tag: 'expand' });

  const expanded = await stripe.identity.verificationSessions.retrieve(s.id, {
    expand: ['verified_outputs', 'provided_details'],
  });
  assert.equal(expanded.id, s.id);
  assert.equal(expanded.provided_details.email, 'a@example.com');
  assert.ok('verified_outputs' in expanded, 'verified_outputs key must be present when expanded');
  assert.equal(expanded.verified_outputs, null);
});

test('update metadata and options', async () => {
  const vs = stripe.identity.verificationSessions;
  const s = await vs.create(createParams('update'));

  const s2 = await vs.update(s.id, { metadata: { order_id: '43', note: '', extra: 'x' } });
  assert.equal(s2.id, s.id);
  assert.deepEqual(s2.metadata, { order_id: '43', tag: 'update', extra: 'x' });
  assert.deepEqual((await vs.retrieve(s.id)).metadata, { order_id: '43', tag: 'update', extra: 'x' });

  // node sends null as an empty value too
  const s2b = await vs.update(s.id, { metadata: { extra: null } });
  assert.deepEqual(s2b.metadata, { order_id: '43', tag: 'update' });

  const s3 = await vs.update(s.id, { metadata: '' });
  assert.deepEqual(s3.metadata, {});
  assert.deepEqual((await vs.retrieve(s.id)).metadata, {});

  const s4 = await vs.update(s.id, { options: { document: { require_id_number: true } } });
  assert.equal(s4.options.document.require_id_number, true);

  const s5 = await vs.update(s.id, { options: { document: '' } });
  assert.ok(!(s5.options ?? {}).document, `options.document should be emptied: ${JSON.stringify(s5.options)}`);
  const r5 = await vs.retrieve(s.id);
  assert.ok(!(r5.options ?? {}).document, `options.document should be emptied: ${JSON.stringify(r5.options)}`);

  const s6 = await vs.update(s.id, { provided_details: { email: 'b@example.com' }, expand: ['provided_details'] });
  assert.equal(s6.provided_details.email, 'b@example.com');

  const s7 = await vs.update(s.id, { type: 'id_number' });
  assert.equal(s7.type, 'id_number');
  assert.equal(s7.status, 'requires_input');
});

test('update rejects a create-only parameter', async () => {
  const vs = stripe.identity.verificationSessions;
  const s = await vs.create(createParams('update_bad'));
  await assert.rejects(
    vs.update(s.id, { client_reference_id: 'other' }),
    stripeError({
      type: 'StripeInvalidRequestError',
      statusCode: 400,
      code: 'parameter_unknown',
      param: 'client_reference_id',
    }),
  );
  assert.equal((await vs.retrieve(s.id)).client_reference_id, 'user_update_bad');
});

test('cancel, and cancel again', async () => {
  const vs = stripe.identity.verificationSessions;
  const s = await vs.create(createParams('cancel'));
  const c = await vs.cancel(s.id);
  assert.equal(c.id, s.id);
  assert.equal(c.status, 'canceled');
  assert.equal(c.client_secret, null);
  assert.equal(c.url, null);
  assert.equal(c.last_error, null);

  const again = await vs.cancel(s.id);
  assert.equal(again.lastResponse.statusCode, 200);
  assert.equal(again.status, 'canceled');
  assert.equal(again.client_secret, null);
  assert.equal(again.url, null);

  const got = await vs.retrieve(s.id);
  assert.equal(got.status, 'canceled');
  assert.equal(got.client_secret, null);
  assert.equal(got.url, null);
});

test('lastResponse carries a request id', async () => {
  const vs = stripe.identity.verificationSessions;
  const s = await vs.create({ type: 'document' });
  assert.match(s.lastResponse.requestId, /^req_/);
  assert.equal(s.lastResponse.headers['request-id'], s.lastResponse.requestId);
  const got = await vs.retrieve(s.id);
  assert.match(got.lastResponse.requestId, /^req_/);
  assert.notEqual(got.lastResponse.requestId, s.lastResponse.requestId);
  const page = await vs.list({ limit: 1 });
  assert.match(page.lastResponse.requestId, /^req_/);
});

test('explicit idempotency key replays the same session', async () => {
  const vs = stripe.identity.verificationSessions;
  const key = `compat-node-${Date.now()}-${Math.random()}`;
  const a = await vs.create({ type: 'document', metadata: { k: 'v' } }, { idempotencyKey: key });
  const b = await vs.create({ type: 'document', metadata: { k: 'v' } }, { idempotencyKey: key });
  assert.equal(b.id, a.id);
  assert.equal(b.lastResponse.headers['idempotent-replayed'], 'true');
});
