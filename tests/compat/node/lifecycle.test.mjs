// Verification (via vouch's test helper), cancel-after-verify and redaction with the Node SDK.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startVouch, createParams, verifySession, rawPost, waitUntil, stripeError } from './helpers.mjs';

let server;
let stripe;
let vs;

before(async () => {
  server = await startVouch();
  stripe = server.stripe();
  vs = stripe.identity.verificationSessions;
});
after(async () => {
  await server?.stop();
});

test('verify via the test helper, then expand outputs and report', async () => {
  const s = await vs.create(createParams('verify'));
  const body = await verifySession(server, s.id);
  assert.equal(body.id, s.id, JSON.stringify(body));
  assert.equal(body.status, 'verified', JSON.stringify(body));

  const got = await vs.retrieve(s.id, { expand: ['verified_outputs', 'last_verification_report'] });
  assert.equal(got.status, 'verified');
  assert.equal(got.client_secret, null);
  assert.equal(got.url, null);
  assert.equal(got.last_error, null);
  assert.equal(typeof got.verified_outputs.first_name, 'string');
  assert.ok(got.verified_outputs.first_name.length > 0);
  assert.equal(typeof got.verified_outputs.last_name, 'string');
  assert.ok(got.verified_outputs.last_name.length > 0);
  const rep = got.last_verification_report;
  assert.equal(typeof rep, 'object');
  assert.match(rep.id, /^vr_/);
  assert.equal(rep.object, 'identity.verification_report');
  assert.equal(rep.verification_session, s.id);
  assert.equal(rep.livemode, false);

  const plain = await vs.retrieve(s.id);
  assert.equal(plain.last_verification_report, rep.id);
  assert.ok(!('verified_outputs' in plain));

  const r = await stripe.identity.verificationReports.retrieve(rep.id);
  assert.equal(r.id, rep.id);
  assert.equal(r.verification_session, s.id);
});

test('cancel of a verified session is rejected', async () => {
  const s = await vs.create({ type: 'document' });
  await verifySession(server, s.id);
  await assert.rejects(
    vs.cancel(s.id),
    stripeError({
      type: 'StripeInvalidRequestError',
      rawType: 'invalid_request_error',
      statusCode: 400,
      message: /because it has a status of "verified"/,
    }),
  );
  assert.equal((await vs.retrieve(s.id)).status, 'verified');
});

test('redact a verified session', async () => {
  const s = await vs.create(createParams('redact'));
  await verifySession(server, s.id);
  const before = await vs.retrieve(s.id, { expand: ['verified_outputs'] });
  assert.ok(![null, '', '[redacted]'].includes(before.verified_outputs.first_name));

  const r = await vs.redact(s.id);
  assert.equal(r.id, s.id);
  assert.equal(r.status, 'verified');
  assert.equal(r.redaction?.status, 'processing');

  const done = await waitUntil(
    () => vs.retrieve(s.id),
    (x) => x.redaction?.status === 'redacted',
    10_000,
  );
  assert.equal(done.redaction?.status, 'redacted');
  assert.equal(done.status, 'verified');

  const after = await vs.retrieve(s.id, { expand: ['verified_outputs'] });
  assert.equal(after.verified_outputs.first_name, '[redacted]');
  assert.equal(after.verified_outputs.last_name, '[redacted]');
  assert.deepEqual(after.metadata, {});
});

test('redact a requires_input session cancels it', async () => {
  const s = await vs.create(createParams('redact_open'));
  const r = await vs.redact(s.id);
  assert.equal(r.id, s.id);
  assert.equal(r.status, 'canceled');
  assert.equal(r.redaction?.status, 'processing');
  assert.equal(r.client_secret, null);
  assert.equal(r.url, null);

  const done = await waitUntil(
    () => vs.retrieve(s.id),
    (x) => x.redaction?.status === 'redacted',
    10_000,
  );
  assert.equal(done.redaction?.status, 'redacted');
  assert.equal(done.status, 'canceled');
  assert.deepEqual(done.metadata, {});
});

test('test helper requires auth and an existing session', async () => {
  const path = '/v1/test_helpers/identity/verification_sessions/vs_doesnotexist/verify';
  const bad = await rawPost(server, path, 'sk_test_not_a_real_key_0000');
  assert.equal(bad.status, 401, JSON.stringify(bad.body));
  const missing = await rawPost(server, path);
  assert.equal(missing.status, 404, JSON.stringify(missing.body));
  assert.equal(missing.body.error?.code, 'resource_missing');
});
