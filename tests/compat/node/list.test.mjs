// Listing, filters and auto-pagination with the official Node SDK.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startVouch } from './helpers.mjs';

const REF = 'compat_list_node';
let server;
let vs;
let seven; // oldest first
const ids = (xs) => xs.map((x) => x.id);
const newestFirst = () => ids(seven).reverse();

before(async () => {
  server = await startVouch();
  vs = server.stripe().identity.verificationSessions;
  seven = [];
  for (let i = 0; i < 7; i++) {
    seven.push(await vs.create({ type: 'document', client_reference_id: REF, metadata: { i: String(i) } }));
  }
  // a decoy the filter must exclude
  await vs.create({ type: 'document', client_reference_id: `${REF}_other` });
});
after(async () => {
  await server?.stop();
});

test('first page shape', async () => {
  const page = await vs.list({ limit: 3, client_reference_id: REF });
  assert.equal(page.object, 'list');
  assert.equal(page.url, '/v1/identity/verification_sessions');
  assert.equal(page.has_more, true);
  assert.deepEqual(ids(page.data), newestFirst().slice(0, 3));
  for (const s of page.data) {
    assert.equal(s.object, 'identity.verification_session');
    assert.ok(!('verified_outputs' in s));
  }
});

test('autoPagingToArray across pages, newest first', async () => {
  const all = await vs.list({ limit: 3, client_reference_id: REF }).autoPagingToArray({ limit: 100 });
  assert.deepEqual(ids(all), newestFirst());
  assert.equal(new Set(ids(all)).size, 7);
});

test('for await across pages', async () => {
  const got = [];
  for await (const s of vs.list({ limit: 3, client_reference_id: REF })) got.push(s.id);
  assert.deepEqual(got, newestFirst());
});

test('manual paging with starting_after', async () => {
  const expected = newestFirst();
  const p1 = await vs.list({ limit: 3, client_reference_id: REF });
  const p2 = await vs.list({ limit: 3, client_reference_id: REF, starting_after: p1.data.at(-1).id });
  assert.deepEqual(ids(p2.data), expected.slice(3, 6));
  assert.equal(p2.has_more, true);
  const p3 = await vs.list({ limit: 3, client_reference_id: REF, starting_after: p2.data.at(-1).id });
  assert.deepEqual(ids(p3.data), expected.slice(6));
  assert.equal(p3.has_more, false);
});

test('backwards auto-paging with ending_before', async () => {
  const page = await vs.list({ limit: 2, client_reference_id: REF, ending_before: seven[0].id });
  assert.deepEqual(ids(page.data), [seven[2].id, seven[1].id]);
  assert.equal(page.has_more, true);
  const all = await vs
    .list({ limit: 2, client_reference_id: REF, ending_before: seven[0].id })
    .autoPagingToArray({ limit: 100 });
  assert.deepEqual(ids(all), ids(seven.slice(1)));
});

test('status filter', async () => {
  await vs.cancel(seven[1].id);
  await vs.cancel(seven[4].id);
  const canceled = await vs.list({ client_reference_id: REF, status: 'canceled' }).autoPagingToArray({ limit: 100 });
  assert.deepEqual(ids(canceled), [seven[4].id, seven[1].id]);
  const open = await vs
    .list({ client_reference_id: REF, status: 'requires_input', limit: 2 })
    .autoPagingToArray({ limit: 100 });
  assert.deepEqual(ids(open), [6, 5, 3, 2, 0].map((i) => seven[i].id));
});

test('created range filter', async () => {
  const lo = Math.min(...seven.map((s) => s.created));
  const hi = Math.max(...seven.map((s) => s.created));
  const a = await vs.list({ client_reference_id: REF, created: { gte: lo } }).autoPagingToArray({ limit: 100 });
  assert.deepEqual(ids(a), newestFirst());
  const b = await vs
    .list({ client_reference_id: REF, created: { gte: lo, lte: hi }, limit: 3 })
    .autoPagingToArray({ limit: 100 });
  assert.deepEqual(ids(b), newestFirst());
  assert.deepEqual((await vs.list({ client_reference_id: REF, created: { gt: hi } })).data, []);
  assert.deepEqual((await vs.list({ client_reference_id: REF, created: { lt: lo } })).data, []);
  const exact = await vs.list({ client_reference_id: REF, created: lo }).autoPagingToArray({ limit: 100 });
  assert.deepEqual(ids(exact), ids([...seven].reverse().filter((s) => s.created === lo)));
});

test('related_customer filter', async () => {
  const a = await vs.create({ type: 'document', related_customer: 'cus_list_filter_node' });
  await vs.create({ type: 'document', related_customer: 'cus_list_filter_other' });
  const page = await vs.list({ related_customer: 'cus_list_filter_node' });
  assert.deepEqual(ids(page.data), [a.id]);
  assert.equal(page.has_more, false);
});
