// CPU seconds per thread of a command (Linux): samples /proc/PID/task/*/stat every 50 ms and, when
// the command exits, prints each thread's user + system time and the totals per thread name
// (MainThread, WorkerThread, V8Worker = V8's GC helpers, libuv-worker = the thread pool).
//   node bench/compare/threads.ts node packages/cairn/bin/cairn.js restore -i KEY REPO latest -x OUT
import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

const [cmd, ...args] = process.argv.slice(2);
const HZ = 100; // clock ticks per second in /proc stat
const started = Date.now();
const child = spawn(cmd, args, { stdio: "inherit" });
const threads = new Map<string, { name: string; user: number; sys: number }>();

function sample(): void {
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${child.pid}/task`);
  } catch {
    return;
  }
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/${child.pid}/task/${tid}/stat`, "utf8");
      const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      threads.set(tid, { name, user: Number(fields[11]) / HZ, sys: Number(fields[12]) / HZ });
    } catch {
      // the thread ended between the listing and the read
    }
  }
}

const timer = setInterval(sample, 50);
child.on("exit", (code) => {
  clearInterval(timer);
  const rows = [...threads.values()].sort((a, b) => b.user + b.sys - (a.user + a.sys));
  const byName = new Map<string, number>();
  for (const t of rows) byName.set(t.name, (byName.get(t.name) ?? 0) + t.user + t.sys);
  const total = rows.reduce((s, t) => s + t.user + t.sys, 0);
  const main = rows.find((t) => t.name === "MainThread");
  const line = [
    `exit ${code} wall ${((Date.now() - started) / 1000).toFixed(2)} s, CPU ${total.toFixed(2)} s`,
    rows.filter((t) => t.user + t.sys >= 0.05).map((t) => `${t.name}:${(t.user + t.sys).toFixed(2)}`).join(" "),
    `by name: ${[...byName].map(([n, s]) => `${n} ${s.toFixed(2)}`).join(", ")}`,
    main ? `main thread user ${main.user.toFixed(2)} sys ${main.sys.toFixed(2)}` : "",
  ];
  process.stderr.write(line.join(" | ") + "\n");
  process.exit(code ?? 1);
});
