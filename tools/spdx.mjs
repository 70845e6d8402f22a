// SPDX-License-Identifier: GPL-3.0-or-later
// The SPDX license line every source file of ours starts with (after a shebang): `node tools/spdx.mjs`
// lists the files without it, `--fix` adds it. test/unit/packaging/spdx.test.ts keeps it that way.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

const ROOT = path.resolve(import.meta.dirname, "..");
const ID = "SPDX-License-Identifier: GPL-3.0-or-later";

/** The comment a file type carries the line in; files of other types carry none. */
function commentFor(file) {
    if (/\.(ts|tsx|mjs|js|cc|h|c)$/.test(file))
        return `// ${ID}`;
    if (/\.css$/.test(file))
        return `/* ${ID} */`;
    if (/\.sh$/.test(file) || file === ".ci/run" || file === "Makefile" || file === "debian/rules" || file === "debian/postrm")
        return `# ${ID}`;
    return null;
}

/** Our source files (tracked by git) that should carry the line. */
export function sourceFiles() {
    const files = execFileSync("git", ["ls-files", "-z"], { cwd: ROOT, encoding: "utf8" }).split("\0").filter(Boolean);
    return files.filter(f => commentFor(f) !== null && fs.existsSync(path.join(ROOT, f)));
}

/** Whether the file's first line (its second after a shebang) is the SPDX line. */
export function hasSpdx(text) {
    const lines = text.split("\n", 3);
    const first = lines[0]?.startsWith("#!") ? lines[1] : lines[0];
    return first !== undefined && first.includes(ID);
}

function addSpdx(file, text) {
    const line = commentFor(file);
    if (text.startsWith("#!")) {
        const end = text.indexOf("\n") + 1;
        return text.slice(0, end) + line + "\n" + text.slice(end);
    }
    return line + "\n" + text;
}

if (import.meta.url === `file://${process.argv[1]}`) {
    const fix = process.argv.includes("--fix");
    const missing = [];
    for (const file of sourceFiles()) {
        const full = path.join(ROOT, file);
        const text = fs.readFileSync(full, "utf8");
        if (hasSpdx(text))
            continue;
        missing.push(file);
        if (fix)
            fs.writeFileSync(full, addSpdx(file, text));
    }
    console.log(`${fix ? "added to" : "missing in"} ${missing.length} files${missing.length ? ":\n" + missing.join("\n") : ""}`);
    process.exitCode = !fix && missing.length > 0 ? 1 : 0;
}
