/** Median, min and max of a list of seconds (the figure every benchmark reports). */
export function stats(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return { median, min: s[0], max: s[s.length - 1], runs: s.length };
}

/** Runs `fn` `warmup` times untimed, then `repeats` times; wall and process-CPU seconds per run. */
export async function timeRuns(fn, { repeats, warmup }) {
  for (let i = 0; i < warmup; i++) await fn();
  const wall = [];
  const cpu = [];
  for (let i = 0; i < repeats; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await fn();
    wall.push((performance.now() - t0) / 1000);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1e6);
  }
  return { seconds: stats(wall), cpuSeconds: stats(cpu) };
}
