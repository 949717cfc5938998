// Shared helpers for the Node compat tests: start a real vouch server, build SDK
// clients pointed at it, and call vouch-only endpoints over plain HTTP.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, openSync, closeSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import Stripe from 'stripe';

const HERE = dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = resolve(HERE, '..', '..', '..');
export const SESSION_ID_RE = /^vs_[A-Za-z0-9]{24}$/;
const LISTEN_RE = /listening on (http:\/\/\S+)/;

function vouchBin() {
  const bin = process.env.VOUCH_BIN
    ? resolve(process.env.VOUCH_BIN)
    : join(REPO_ROOT, 'target', 'debug', 'vouch');
  if (!existsSync(bin)) throw new Error(`vouch binary not found at ${bin}`);
  return bin;
}

function readLog(path) {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/**
 * Start `vouch serve` on a random port with a fresh SQLite database in a new
 * temp directory. Resolves to {base, host, port, testKey, liveKey, stripe(key?), stop()}.
 */
export async function startVouch() {
  const workdir = mkdtempSync(join(tmpdir(), 'vouch-compat-node-'));
  const logPath = join(workdir, 'server.log');
  const testKey = 'sk_test_compat' + randomBytes(12).toString('hex');
  const liveKey = 'sk_live_compat' + randomBytes(12).toString('hex');
  const args = [
    'serve',
    '--listen', '127.0.0.1:0',
    '--database-url', `sqlite://${join(workdir, 'vouch.db')}`,
    '--api-key', testKey,
    '--api-key', liveKey,
    '--redaction-delay', '200ms',
  ];
  const fd = openSync(logPath, 'w');
  const proc = spawn(vouchBin(), args, { cwd: workdir, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  let exited = null;
  const exitPromise = new Promise((res) => {
    proc.on('exit', (code, signal) => {
      exited = { code, signal };
      res(exited);
    });
  });
  proc.on('error', (e) => {
    exited = { error: e };
  });

  const stop = async () => {
    if (!exited) {
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exitPromise;
      clearTimeout(t);
    }
    if (process.env.VOUCH_COMPAT_KEEP) console.log(`vouch work dir kept: ${workdir}`);
    else rmSync(workdir, { recursive: true, force: true });
  };

  try {
    // 1. banner
    let base = null;
    const bannerDeadline = Date.now() + 10_000;
    while (Date.now() < bannerDeadline) {
      const m = LISTEN_RE.exec(readLog(logPath));
      if (m) {
        base = m[1].replace(/\/+$/, '');
        break;
      }
      if (exited) throw new Error(`vouch exited (${JSON.stringify(exited)}) before listening:\n${readLog(logPath)}`);
      await sleep(50);
    }
    if (!base) throw new Error(`vouch printed no 'listening on http://...' within 10s:\n${readLog(logPath)}`);

    // 2. health
    const healthDeadline = Date.now() + 10_000;
    let last = null;
    for (;;) {
      if (exited) throw new Error(`vouch exited during start-up:\n${readLog(logPath)}`);
      try {
        const r = await fetch(`${base}/healthz`);
        last = r.status;
        if (r.status === 200) break;
      } catch (e) {
        last = e;
      }
      if (Date.now() > healthDeadline) throw new Error(`GET ${base}/healthz never returned 200 (last: ${last})`);
      await sleep(50);
    }

    const url = new URL(base);
    const server = {
      base,
      host: url.hostname,
      port: url.port,
      testKey,
      liveKey,
      workdir,
      logPath,
      log: () => readLog(logPath),
      stop,
      /** An official SDK client pointed at this server. */
      stripe(key = testKey, extra = {}) {
        return new Stripe(key, { host: url.hostname, port: url.port, protocol: 'http', ...extra });
      },
    };
    return server;
  } catch (e) {
    await stop();
    throw e;
  }
}

/** Plain HTTP POST (no SDK) for vouch-only endpoints. Resolves to {status, body}. */
export async function rawPost(server, path, key = server.testKey) {
  const r = await fetch(server.base + path, {
    method: 'POST',
    headers: {
      Authorization: `Bearer ${key}`,
      'Content-Type': 'application/x-www-form-urlencoded',
    },
    body: '',
  });
  const text = await r.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    body = { _raw: text };
  }
  return { status: r.status, body };
}

/** Finish a session through vouch's test helper; throws unless 200. */
export async function verifySession(server, id, key = server.testKey) {
  const path = `/v1/test_helpers/identity/verification_sessions/${id}/verify`;
  const { status, body } = await rawPost(server, path, key);
  if (status !== 200) throw new Error(`POST ${path} -> ${status} ${JSON.stringify(body)}`);
  return body;
}

/** Every create parameter the behaviour tests check, with distinct values per tag. */
export function createParams(tag) {
  return {
    type: 'document',
    options: {
      document: {
        allowed_types: ['driving_license', 'passport'],
        require_matching_selfie: true,
      },
    },
    metadata: { order_id: '42', note: 'hi', tag },
    client_reference_id: `user_${tag}`,
    return_url: 'https://example.com/return',
    related_customer: 'cus_compat123',
    provided_details: { email: 'a@example.com' },
  };
}

/** Call fetchFn until predicate(result) holds or the timeout passes; returns the last result. */
export async function waitUntil(fetchFn, predicate, timeoutMs = 10_000, intervalMs = 100) {
  const deadline = Date.now() + timeoutMs;
  let result = await fetchFn();
  while (!predicate(result) && Date.now() < deadline) {
    await sleep(intervalMs);
    result = await fetchFn();
  }
  return result;
}

/** assert.rejects validator for a Stripe SDK error. */
export function stripeError(expected) {
  return (err) => {
    for (const [k, v] of Object.entries(expected)) {
      if (v instanceof RegExp) {
        if (!v.test(String(err[k]))) throw new Error(`err.${k} = ${JSON.stringify(err[k])} does not match ${v}; raw: ${JSON.stringify(err.raw)}`);
      } else if (err[k] !== v) {
        throw new Error(`err.${k} = ${JSON.stringify(err[k])}, expected ${JSON.stringify(v)}; raw: ${JSON.stringify(err.raw)}`);
      }
    }
    return true;
  };
}
