// The load generator of bench/run.py: many ActionCable subscribers, and HTTP callback clients.
//
// Driven line by line: each stdin line is a JSON command, each stdout line a JSON answer. One process holds
// every connection of one system under test, so N grows step by step without reconnecting.
//
//   {"cmd": "connect", "url", "n", "identifiers": [...], "concurrency"}      -> {"event": "connected", ...}
//       grow to n subscribed connections; connection i subscribes to identifiers[i % identifiers.length]
//   {"cmd": "fanout", "post": {url, headers, fields}, "samples", "warmup", "interval_ms", "timeout_ms"}
//       -> {"event": "fanout", "samples": [{all_ms, median_ms, missing, post_ms, status}, ...]}
//       one POST at a time; a sample is the time from the POST being sent until every subscriber has the frame
//   {"cmd": "count", "ms"}                                                   -> {"event": "count", "frames", ...}
//   {"cmd": "flood", "jobs": [{url, token, job_id}], "hz", "ms", "sockets"} -> {"event": "flood", ...}
//       each job POSTs at hz (skipping a tick while its previous POST is in flight); subscribers count frames
//   {"cmd": "ingest", "jobs": [...], "ms", "concurrency"}                    -> {"event": "ingest", ...}
//       closed loop: `concurrency` requests in flight for ms, round-robin over the jobs (wrk's stand-in)
//   {"cmd": "close"}
//
// Frames are recognised by byte search (Buffer.indexOf), never parsed, so the client stays cheap per frame.

import http from "node:http";
import readline from "node:readline";
import { performance } from "node:perf_hooks";
import WebSocket from "ws";

const PROTOCOL = "actioncable-v1-json";
const CONFIRM = Buffer.from('"type":"confirm_subscription"');
const REJECT = Buffer.from('"type":"reject_subscription"');
const PAYLOAD = Buffer.from('"message":{');

const connections = [];
let pendingConnects = 0;
let connectFailures = 0;
let broadcast = null; // {marker: Buffer, sent: number, times: Float64Array, got: number, resolve}
let framesCounted = 0;

function say(event) {
  process.stdout.write(JSON.stringify(event) + "\n");
}

function onFrame(data) {
  if (broadcast !== null && data.indexOf(broadcast.marker) !== -1) {
    const b = broadcast;
    b.times[b.got++] = performance.now() - b.sent;
    if (b.got === b.n) b.resolve();
    return;
  }
  if (data.indexOf(PAYLOAD) !== -1) framesCounted++;
}

function openOne(url, identifier) {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, [PROTOCOL], { perMessageDeflate: false, handshakeTimeout: 60000 });
    let settled = false;
    const timer = setTimeout(() => settle(false), 60000); // no confirmation: count it as failed
    const settle = (ok) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (ok) {
        ws.removeAllListeners("message");
        ws.on("message", onFrame);
        connections.push(ws);
      } else {
        connectFailures++;
        ws.terminate();
      }
      resolve(ok);
    };
    ws.on("open", () => ws.send(JSON.stringify({ command: "subscribe", identifier })));
    ws.on("message", (data) => {
      if (data.indexOf(CONFIRM) !== -1) settle(true);
      else if (data.indexOf(REJECT) !== -1) settle(false);
    });
    ws.on("error", () => settle(false));
    ws.on("close", () => settle(false));
  });
}

async function connect({ url, n, identifiers, concurrency = 64 }) {
  const started = performance.now();
  const failuresBefore = connectFailures;
  let next = connections.length + pendingConnects;
  const worker = async () => {
    while (next < n && connectFailures - failuresBefore < Math.max(50, n / 20)) {
      const i = next++;
      pendingConnects++;
      await openOne(url, identifiers[i % identifiers.length]);
      pendingConnects--;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  say({
    event: "connected",
    n: connections.length,
    failed: connectFailures - failuresBefore,
    seconds: (performance.now() - started) / 1000,
  });
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

function post(url, headers, body) {
  return new Promise((resolve) => {
    const request = http.request(url, { method: "POST", agent, headers: { ...headers, "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) } }, (response) => {
      response.resume();
      response.on("end", () => resolve(response.statusCode));
    });
    request.on("error", () => resolve(0));
    request.end(body);
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function fanout({ post: target, samples, warmup = 2, interval_ms = 250, timeout_ms = 5000, first = 0 }) {
  const n = connections.length;
  const results = [];
  for (let k = 0; k < warmup + samples; k++) {
    const marker = `bench-${first + k}"`;
    const times = new Float64Array(n);
    let timer;
    const done = new Promise((resolve) => {
      broadcast = { marker: Buffer.from(marker), sent: 0, times, got: 0, n, resolve };
      timer = setTimeout(resolve, timeout_ms);
    });
    const body = JSON.stringify({ ...target.fields, progress: (first + k) % 100, message: marker.slice(0, -1) });
    const b = broadcast;
    b.sent = performance.now();
    const posted = post(target.url, target.headers, body).then((status) => ({ status, ms: performance.now() - b.sent }));
    await done;
    clearTimeout(timer);
    const { status, ms } = await posted;
    broadcast = null;
    if (k >= warmup) {
      const got = times.subarray(0, b.got).sort();
      results.push({
        all_ms: b.got === n ? got[n - 1] : timeout_ms,
        median_ms: b.got ? got[Math.floor((b.got - 1) / 2)] : timeout_ms,
        missing: n - b.got,
        post_ms: ms,
        status,
      });
    }
    const wait = b.sent + interval_ms - performance.now();
    if (wait > 0) await sleep(wait);
  }
  say({ event: "fanout", n, samples: results });
}

async function count({ ms }) {
  framesCounted = 0;
  const started = performance.now();
  await sleep(ms);
  say({ event: "count", frames: framesCounted, seconds: (performance.now() - started) / 1000 });
}

function body(job, k) {
  return JSON.stringify({ job_id: job.job_id, progress: (k % 10000) / 100, message: `step ${k}` });
}

async function flood({ jobs, hz = 10, ms, sockets = 64 }) {
  const floodAgent = new http.Agent({ keepAlive: true, maxSockets: sockets });
  const inFlight = new Uint8Array(jobs.length);
  const stats = { sent: 0, accepted: 0, other: 0, skipped: 0 };
  let k = 0;
  const send = (i) => {
    const job = jobs[i];
    const payload = body(job, k++);
    inFlight[i] = 1;
    stats.sent++;
    const request = http.request(job.url, { method: "POST", agent: floodAgent, headers: { "X-Callback-Token": job.token, "Content-Type": "application/json", "Content-Length": Buffer.byteLength(payload) } }, (response) => {
      response.resume();
      response.on("end", () => {
        inFlight[i] = 0;
        if (response.statusCode === 202) stats.accepted++;
        else stats.other++;
      });
    });
    request.on("error", () => { inFlight[i] = 0; stats.other++; });
    request.end(payload);
  };
  // Spread each job's ticks over the period: slot s of `slots` sends for jobs i with i % slots === s.
  const slots = 10;
  const tick = 1000 / hz / slots;
  framesCounted = 0;
  const started = performance.now();
  for (let t = 0; performance.now() - started < ms; t++) {
    const s = t % slots;
    for (let i = s; i < jobs.length; i += slots) {
      if (inFlight[i]) stats.skipped++;
      else send(i);
    }
    const wait = started + (t + 1) * tick - performance.now();
    if (wait > 0) await sleep(wait);
  }
  const seconds = (performance.now() - started) / 1000;
  const frames = framesCounted;
  floodAgent.destroy();
  say({ event: "flood", seconds, frames, offered: jobs.length * hz * seconds, ...stats });
}

async function ingest({ jobs, ms, concurrency = 32 }) {
  const ingestAgent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const stats = { requests: 0, accepted: 0, other: 0 };
  const started = performance.now();
  let k = 0;
  const loop = async () => {
    while (performance.now() - started < ms) {
      const job = jobs[k % jobs.length];
      const payload = body(job, k++);
      const status = await new Promise((resolve) => {
        const request = http.request(job.url, { method: "POST", agent: ingestAgent, headers: { "X-Callback-Token": job.token, "Content-Type": "application/json", "Content-Length": Buffer.byteLength(payload) } }, (response) => {
          response.resume();
          response.on("end", () => resolve(response.statusCode));
        });
        request.on("error", () => resolve(0));
        request.end(payload);
      });
      stats.requests++;
      if (status === 202) stats.accepted++;
      else stats.other++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  ingestAgent.destroy();
  say({ event: "ingest", seconds: (performance.now() - started) / 1000, ...stats });
}

const commands = { connect, fanout, count, flood, ingest };

const lines = readline.createInterface({ input: process.stdin });
let queue = Promise.resolve();
lines.on("line", (line) => {
  const command = JSON.parse(line);
  if (command.cmd === "close") {
    queue.then(() => {
      for (const ws of connections) ws.terminate();
      agent.destroy();
      say({ event: "closed" });
      process.exit(0);
    });
    return;
  }
  queue = queue.then(() => commands[command.cmd](command)).catch((error) => say({ event: "error", error: String(error) }));
});
lines.on("close", () => process.exit(0));
say({ event: "ready" });
