import { MATMUL_RELAXED_WASM_BASE64, MATMUL_WASM_BASE64 } from './matmulWasm.js';

type TopK = (train: number, M: number, D: number, q: number, q0: number, q1: number, k: number, nc: number, scratch: number, ov: number, or: number) => void;
type Gemm = (descriptor: number, thread: number) => void;
type Transpose = (src: number, dst: number, rows: number, cols: number) => void;

/** Byte size of a wasm page; page 0 of the engine's memory holds the control blocks and GEMM descriptors, data starts at page 1. */
export const PAGE = 65536;
/** The module's memory limit: 65,536 pages = 4 GiB. */
export const MAX_PAGES = 65536;
/** Ints per thread control block: [job, done, ready, error, function, 11 arguments]. */
const CTRL_INTS = 16;
/** The most threads the engine runs (tfjs' wasm pool has 8 workers). */
export const MAX_THREADS = 8;
/** Bytes of the GEMM descriptor (22 ints, shared by the threads of a call), in page 0 after the control blocks. */
export const DESCRIPTOR_AT = MAX_THREADS * CTRL_INTS * 4;
/** How long a new worker thread may take to start before its share goes to the calling thread. */
const WORKER_START_MS = 10000;

/** The functions of the module, by the number a control block names them with. */
export const FN = { topk: 0, gemm: 1 } as const;

/** The worker: instantiates the module on the shared memory, then runs the named function whenever its job counter moves. */
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { module, memory, ctrl } = workerData;
const { exports } = new WebAssembly.Instance(module, { env: { memory } });
const c = new Int32Array(memory.buffer, ctrl, ${CTRL_INTS});
Atomics.store(c, 2, 1);
Atomics.notify(c, 2);
for (let seen = 0; ; ) {
  Atomics.wait(c, 0, seen);
  seen = Atomics.load(c, 0);
  try {
    if (c[4] === ${FN.gemm}) exports.gemm(c[5], c[6]);
    else exports.topk(c[5], c[6], c[7], c[8], c[9], c[10], c[11], c[12], c[13], c[14], c[15]);
    c[3] = 0;
  } catch { c[3] = 1; }
  Atomics.store(c, 1, seen);
  Atomics.notify(c, 1);
}`;

interface WorkerThreads {
  Worker: new (src: string, opts: { eval: boolean; workerData: unknown }) => { unref(): void; terminate(): Promise<number> };
}

/** The compiled product module (wasm/matmul.wat.mjs) on its shared memory, and the worker threads started so far (thread i ≥ 1 uses control block i). */
export interface TiledEngine {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  topk: TopK;
  gemm: Gemm;
  /** `dst [cols, rows] = srcᵀ` for a row-major float32 `src [rows, cols]` (byte addresses), on the calling thread. */
  transpose: Transpose;
  /** Whether this is the relaxed-SIMD build (fused multiply-add). */
  relaxed: boolean;
  workers: number;
  /** Set when a worker did not start: no further ones are tried (each try could block for WORKER_START_MS). */
  workersFailed?: boolean;
}

/** One call of a module function on one thread: `topk`'s 11 arguments, or `gemm`'s descriptor address and thread index. */
export interface TiledJob {
  fn: (typeof FN)[keyof typeof FN];
  args: number[];
}

let engine: TiledEngine | null | undefined;

const decode = (b64: string) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));

/** Instantiates one build of the module (its bytes) on a fresh shared memory; throws where the engine cannot (no SIMD, no shared memory). */
export function engineFromBytes(bytes: Uint8Array<ArrayBuffer>, relaxed: boolean): TiledEngine {
  const module = new WebAssembly.Module(bytes);
  const memory = new WebAssembly.Memory({ initial: 1, maximum: MAX_PAGES, shared: true });
  const { exports } = new WebAssembly.Instance(module, { env: { memory } });
  const { topk, gemm, transpose } = exports as unknown as { topk: TopK; gemm: Gemm; transpose: Transpose };
  return { module, memory, topk, gemm, transpose, relaxed, workers: 0 };
}

/**
 * The product module, instantiated once on a shared memory: its relaxed-SIMD build where the
 * engine validates it (Node ≥ 22, Chromium ≥ 114; Node 20 with `--experimental-wasm-relaxed-simd`),
 * its baseline-SIMD build otherwise, or null where the engine has no wasm SIMD or no shared memory
 * (a page that is not cross-origin isolated).
 */
export function tiledEngine(): TiledEngine | null {
  if (engine !== undefined) return engine;
  try {
    const relaxedBytes = decode(MATMUL_RELAXED_WASM_BASE64);
    const relaxed = WebAssembly.validate(relaxedBytes);
    engine = engineFromBytes(relaxed ? relaxedBytes : decode(MATMUL_WASM_BASE64), relaxed);
  } catch {
    engine = null;
  }
  return engine;
}

/** Grows the engine's memory to at least `bytes`; returns a fresh float view of it. */
export function reserve(e: TiledEngine, bytes: number, what: string): Float32Array {
  if (bytes > MAX_PAGES * PAGE) throw new RangeError(`${what}: ${bytes} bytes needed, above the kernel memory limit of 4 GiB`);
  const pages = Math.ceil(bytes / PAGE) - e.memory.buffer.byteLength / PAGE;
  if (pages > 0) e.memory.grow(pages);
  return new Float32Array(e.memory.buffer);
}

/** Node's worker_threads (Node ≥ 20.16), or null (browsers: the calling thread may not block, so no workers). */
function workerThreads(): WorkerThreads | null {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  return (proc?.getBuiltinModule?.('node:worker_threads') as WorkerThreads | undefined) ?? null;
}

/** Whether this engine can run worker threads for the module (Node: yes; browsers: no, the calling thread may not block). */
export const canStartWorkers = (): boolean => workerThreads() != null;

/** Control block of thread `i` (page 0). */
const control = (e: TiledEngine, i: number) => new Int32Array(e.memory.buffer, i * CTRL_INTS * 4, CTRL_INTS);


/** Starts worker threads until there are `threads − 1` (fewer if one does not start); returns how many threads can run (≥ 1). */
export function ensureWorkers(e: TiledEngine, threads: number): number {
  const want = Math.min(Math.max(1, threads), MAX_THREADS);
  const wt = want > 1 ? workerThreads() : null;
  while (wt != null && !e.workersFailed && e.workers < want - 1) {
    const i = e.workers + 1;
    const c = control(e, i);
    c.fill(0);
    const worker = new wt.Worker(WORKER_SOURCE, { eval: true, workerData: { module: e.module, memory: e.memory, ctrl: i * CTRL_INTS * 4 } });
    worker.unref();
    Atomics.wait(c, 2, 0, WORKER_START_MS);
    if (Atomics.load(c, 2) !== 1) {
      void worker.terminate();
      e.workersFailed = true;
    } else {
      e.workers = i;
    }
  }
  return Math.min(want, e.workers + 1);
}

/**
 * Runs `jobs[0]` on the calling thread and `jobs[t]` on worker thread t (started beforehand by
 * {@link ensureWorkers}), and returns when all are done; throws `Error` naming a job that failed.
 */
export function runJobs(e: TiledEngine, jobs: TiledJob[]): void {
  const pending: [number, number][] = [];
  for (let t = 1; t < jobs.length; t++) {
    const c = control(e, t);
    c[4] = jobs[t].fn;
    c.set(jobs[t].args, 5);
    const job = c[0] + 1;
    Atomics.store(c, 0, job);
    Atomics.notify(c, 0);
    pending.push([t, job]);
  }
  const [first] = jobs;
  let failed: unknown = null;
  try {
    if (first.fn === FN.gemm) e.gemm(first.args[0], first.args[1]);
    else (e.topk as (...a: number[]) => void)(...first.args);
  } catch (err) {
    failed = err;
  }
  for (const [t, job] of pending) {
    const c = control(e, t);
    for (let done = Atomics.load(c, 1); done !== job; done = Atomics.load(c, 1)) Atomics.wait(c, 1, done);
    if (c[3] !== 0) failed ??= new Error(`worker thread ${t} failed`);
  }
  if (failed != null) throw failed;
}
