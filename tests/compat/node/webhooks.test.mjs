// Webhook endpoints, events and signed deliveries with the official Node SDK: what vouch
// POSTs verifies with stripe.webhooks.constructEvent.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { startVouch, waitUntil } from './helpers.mjs';

const CREATED = 'identity.verification_session.created';
const CANCELED = 'identity.verification_session.canceled';

let server;
let stripe;
let receiver;
const received = [];

before(async () => {
  server = await startVouch();
  stripe = server.stripe();
  receiver = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      received.push({ body: Buffer.concat(chunks), signature: req.headers['stripe-signature'] });
      res.writeHead(200);
      res.end('ok');
    });
  });
  await new Promise((res) => receiver.listen(0, '127.0.0.1', res));
});
after(async () => {
  await new Promise((res) => (receiver ? receiver.close(res) : res()));
  await server?.stop();
});

test('deliveries verify with webhooks.constructEvent', async () => {
  const url = `http://127.0.0.1:${receiver.address().port}/hook`;
  const endpoint = await stripe.webhookEndpoints.create({ url, enabled_events: [CREATED, CANCELED] });
  assert.match(endpoint.id, /^we_/);
  assert.match(endpoint.secret, /^whsec_/);

  const session = await stripe.identity.verificationSessions.create({ type: 'document' });
  await stripe.identity.verificationSessions.cancel(session.id);
  await waitUntil(async () => received.length, (n) => n >= 2);
  assert.equal(received.length, 2);

  const events = received.map(({ body, signature }) =>
    stripe.webhooks.constructEvent(body, signature, endpoint.secret),
  );
  for (const e of events) {
    assert.equal(e.object, 'event');
    assert.equal(e.data.object.id, session.id);
  }
  assert.deepEqual(events.map((e) => e.type).sort(), [CANCELED, CREATED]);
  assert.throws(
    () => stripe.webhooks.constructEvent(received[0].body, received[0].signature, 'whsec_not_the_secret'),
    (err) => err.type === 'StripeSignatureVerificationError',
  );

  const listed = await stripe.events.list({ type: 'identity.*' });
  assert.deepEqual(listed.data.map((e) => e.id).sort(), events.map((e) => e.id).sort());
  const canceled = events.find((e) => e.type === CANCELED);
  const got = await stripe.events.retrieve(canceled.id);
  assert.equal(got.data.object.status, 'canceled');

  const fetched = await stripe.webhookEndpoints.retrieve(endpoint.id);
  assert.equal(fetched.secret, undefined);
  const updated = await stripe.webhookEndpoints.update(endpoint.id, { disabled: true });
  assert.equal(updated.status, 'disabled');
  const deleted = await stripe.webhookEndpoints.del(endpoint.id);
  assert.equal(deleted.deleted, true);
});
