// Shared by the page test and the load test: run `./lustra serve` on an ephemeral loopback port and stop it on every
// path, and make a PNG of a shipped eval512 image (the classifier's 28x28 grey input) without any image library.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync, deflateSync } from "node:zlib";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

/** A failure the scripts report as their one-line message (no stack trace). */
export class TestFailure extends Error {}

export function fail(message) {
  throw new TestFailure(message);
}

/**
 * Starts `./lustra serve --port 0 ARGS` in its own process group and waits (bounded) until it prints its address and
 * /healthz answers 200. The launcher execs java, so the child's pid is the server's (for /proc/PID/status).
 * The launcher may first rebuild the jar when sources changed: startSeconds must allow for that.
 */
export async function startServer(args, { startSeconds = 240, env = process.env } = {}) {
  const child = spawn(join(ROOT, "lustra"), ["serve", "--port", "0", ...args], {
    cwd: ROOT, detached: true, stdio: ["ignore", "pipe", "pipe"], env,
  });
  const server = { child, pid: child.pid, log: "", exited: null, base: null };
  const keep = chunk => { server.log = (server.log + chunk).slice(-8000); };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  child.on("exit", (code, signal) => { server.exited = signal ?? code; });
  stopOnExit(server);
  const deadline = Date.now() + startSeconds * 1000;
  while (Date.now() < deadline) {
    if (server.exited !== null) {
      fail(`lustra serve exited (${server.exited}) before serving; its output:\n${server.log.trim()}`);
    }
    const m = /Lustra is serving (http:\/\/[^/\s]+)\//.exec(server.log);
    if (m && await healthy(m[1])) {
      server.base = m[1];
      return server;
    }
    await sleep(500);
  }
  fail(`lustra serve did not answer /healthz within ${startSeconds} s; its output:\n${server.log.trim()}`);
}

async function healthy(base) {
  try {
    const r = await fetch(base + "/healthz", { signal: AbortSignal.timeout(5000) });
    return r.status === 200 && (await r.json()).status === "ok";
  } catch {
    return false;
  }
}

/** SIGTERM to the server's process group (its shutdown hook closes the models), SIGKILL after 20 s. */
export async function stopServer(server) {
  if (!server || server.exited !== null) {
    return;
  }
  signal(server, "SIGTERM");
  for (let i = 0; i < 200 && server.exited === null; i++) {
    await sleep(100);
  }
  if (server.exited === null) {
    signal(server, "SIGKILL");
  }
}

function signal(server, name) {
  try {
    process.kill(-server.pid, name);
  } catch {
    // already gone
  }
}

/** The server must not outlive this script, also when it dies of an uncaught error or Ctrl-C. */
function stopOnExit(server) {
  process.on("exit", () => { if (server.exited === null) { signal(server, "SIGKILL"); } });
  for (const s of ["SIGINT", "SIGTERM", "SIGHUP"]) {
    process.once(s, () => {
      signal(server, "SIGKILL");
      process.exit(130);
    });
  }
}

export function sleep(ms) {
  return new Promise(resolve => setTimeout(resolve, ms));
}

/** Image `index` of data/eval512 as a PNG, with its true label (eval512 holds images classifier-resnet gets right). */
export function evalImage(index = 0) {
  const images = gunzipSync(readFileSync(join(ROOT, "data", "eval512-images-idx3-ubyte.gz")));
  const labels = gunzipSync(readFileSync(join(ROOT, "data", "eval512-labels-idx1-ubyte.gz")));
  if (images.readUInt32BE(0) !== 0x803 || labels.readUInt32BE(0) !== 0x801) {
    fail("data/eval512-*-ubyte.gz are not IDX image/label files; restore them from git.");
  }
  const n = images.readUInt32BE(4), rows = images.readUInt32BE(8), cols = images.readUInt32BE(12);
  if (index < 0 || index >= n) {
    fail(`eval512 has ${n} images; index ${index} is out of range.`);
  }
  const pixels = images.subarray(16 + index * rows * cols, 16 + (index + 1) * rows * cols);
  return { png: greyPng(pixels, cols, rows), label: labels[8 + index], width: cols, height: rows };
}

/** An 8-bit greyscale PNG (colour type 0, filter 0 on every row). */
export function greyPng(pixels, width, height) {
  const raw = Buffer.alloc(height * (width + 1));
  for (let y = 0; y < height; y++) {
    pixels.copy(raw, y * (width + 1) + 1, y * width, (y + 1) * width);
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth; colour type 0, compression 0, filter 0, no interlace follow as zeros
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header), chunk("IDAT", deflateSync(raw)), chunk("IEND", Buffer.alloc(0))]);
}

function chunk(type, data) {
  const body = Buffer.concat([Buffer.from(type, "latin1"), data]);
  const out = Buffer.alloc(8 + data.length + 4);
  out.writeUInt32BE(data.length, 0);
  body.copy(out, 4);
  out.writeUInt32BE(crc32(body), 8 + data.length);
  return out;
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) {
    c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  }
  return c >>> 0;
});

function crc32(bytes) {
  let c = 0xffffffff;
  for (const b of bytes) {
    c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  }
  return (c ^ 0xffffffff) >>> 0;
}
