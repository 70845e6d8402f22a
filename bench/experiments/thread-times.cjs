// SPDX-License-Identifier: GPL-3.0-or-later
// Preloaded (node --require) into a CLI run by z-perf.ts: at exit, each thread's CPU and context switches on stderr.
const fs = require("fs");
process.on("exit", () => {
    const rows = [];
    for (const t of fs.readdirSync("/proc/self/task")) {
        try {
            const s = fs.readFileSync(`/proc/self/task/${t}/stat`, "utf8");
            const comm = s.slice(s.indexOf("(") + 1, s.lastIndexOf(")"));
            const f = s.slice(s.lastIndexOf(") ") + 2).split(" ");
            const st = fs.readFileSync(`/proc/self/task/${t}/status`, "utf8");
            const vol = /voluntary_ctxt_switches:\s+(\d+)/.exec(st)[1], nv = /nonvoluntary_ctxt_switches:\s+(\d+)/.exec(st)[1];
            rows.push(`${t === String(process.pid) ? "main" : comm}:${(Number(f[11]) * 10)}u+${Number(f[12]) * 10}s cs ${vol}/${nv}`);
        } catch { // a thread that ended meanwhile
        }
    }
    process.stderr.write("THREADS " + rows.join("  ") + "\n");
});
