// SPDX-License-Identifier: GPL-3.0-or-later
// Corruptions of real chains (a running TCG VM backed up by our engine: full + 3 incs, one chain plain,
// one lz4, each of its own VM), each with and without the .chksum files (without them the folder is
// what the Python tool 1.9.15 leaves, less its missing UUID key). For every case and every restore
// point it touches: our restore, our verify (CLI code path in-process) and the page's verify of the
// point. Asserted: verify refuses exactly when restore refuses, with restore's message; where a .chksum
// exists no restore is silently wrong (refused, or qemu-img compare says identical); without one, what
// the format cannot detect is listed here and verify says per file that it could not check the content.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { FRAME_HEADER_LENGTH, parseFrameHeader, parseMeta, parseTrailerJson, entryStoredSize, isCompressed } from "../../helper/format/index.ts";
import { verifyPoint } from "../../helper/jobs/verify-point.ts";
import { runRestore } from "../../helper/restore/restore.ts";
import { runVerify } from "../../helper/restore/verify.ts";
import { ourBackupOk } from "../lib/backup-cli.ts";
import { compareImages, TestVm, type Write } from "../lib/vm.ts";
import { testBed } from "../lib/test-bed.ts";

const bed = testBed({ name: "corrupt", everyVm: true });
let tmp = "";

interface Chain {
    vm: TestVm;
    dir: string;
    /** Expected image of vda at point i (virtnbdbackup.i). */
    expected: string[];
}
const chains: Record<"plain" | "lz4", Chain> = {} as Record<"plain" | "lz4", Chain>;

const FULL = "vda.full.data";
const inc = (n: number) => `vda.inc.virtnbdbackup.${n}.data`;
const fileOfPoint = (n: number) => n === 0 ? FULL : inc(n);

const WRITES: Write[][] = [
    [{ offset: 0, length: "3M", text: "the full " }, { offset: "8M", length: "2M", random: true }],
    [{ offset: "4M", length: "1M", pattern: 0x51 }, { offset: "20M", length: "512K", random: true }],
    [{ offset: "12M", length: "2M", text: "second inc " }, { offset: "1M", length: "256K", pattern: 0x52 }],
    [{ offset: "24M", length: "1M", random: true }, { offset: 0, length: "64K", pattern: 0x53 }],
];

bed.before(async () => {
    tmp = bed.work;
    const make = async (compress: boolean): Promise<Chain> => ({
        vm: await TestVm.create({ disks: [{ size: "32M" }] }),
        dir: path.join(tmp, compress ? "lz4" : "plain"),
        expected: [],
    });
    chains.plain = await make(false);
    chains.lz4 = await make(true);
    // Interleaved, so that either VM's file fits the other's chain by name, size, parent and date:
    // only the VM UUID in its meta frame tells them apart.
    for (const [i, writes] of WRITES.entries()) {
        for (const [kind, chain] of Object.entries(chains)) {
            for (const w of writes)
                await chain.vm.write(0, "random" in w ? { ...w, seed: i * 10 + (kind === "lz4" ? 1 : 0) } : w);
            await ourBackupOk(["-d", chain.vm.name, "-l", i === 0 ? "full" : "inc", "-o", chain.dir, ...(kind === "lz4" ? ["-z"] : [])]);
            chain.expected.push(await chain.vm.snapshotExpected(0, `corrupt-${kind}-${i}`));
        }
    }
});


// ---- where things are in a stream file

interface Frames {
    metaJsonAt: number;
    metaLength: number;
    /** Header offsets of data frames, with their payload offset and stored length. */
    data: { at: number; payload: number; stored: number }[];
    zero: number[];
    stop: number;
    /** lz4: where the trailer JSON starts. */
    trailer?: number;
}

function framesOf(file: string): Frames {
    const buf = fs.readFileSync(file);
    const metaHeader = parseFrameHeader(buf, 0);
    const meta = parseMeta(buf.subarray(FRAME_HEADER_LENGTH, FRAME_HEADER_LENGTH + metaHeader.length));
    let trailer: number[] | undefined;
    let trailerAt: number | undefined;
    if (isCompressed(meta)) {
        const comp = parseFrameHeader(buf, buf.length - FRAME_HEADER_LENGTH);
        trailerAt = buf.length - FRAME_HEADER_LENGTH - 2 - comp.length;
        trailer = parseTrailerJson(buf.subarray(trailerAt, trailerAt + comp.length)).map(entryStoredSize);
    }
    const out: Frames = { metaJsonAt: FRAME_HEADER_LENGTH, metaLength: metaHeader.length, data: [], zero: [], stop: -1, trailer: trailerAt };
    let at = FRAME_HEADER_LENGTH + metaHeader.length + 2;
    for (;;) {
        const h = parseFrameHeader(buf, at);
        if (h.kind === "stop") {
            out.stop = at;
            return out;
        }
        if (h.kind === "zero") {
            out.zero.push(at);
            at += FRAME_HEADER_LENGTH;
            continue;
        }
        const stored = trailer ? trailer[out.data.length] : h.length;
        out.data.push({ at, payload: at + FRAME_HEADER_LENGTH, stored });
        at += FRAME_HEADER_LENGTH + stored + 2;
    }
}

function flip(file: string, at: number, bit = 0x01): void {
    const fd = fs.openSync(file, "r+");
    try {
        const b = Buffer.alloc(1);
        fs.readSync(fd, b, 0, 1, at);
        b[0] ^= bit;
        fs.writeSync(fd, b, 0, 1, at);
    } finally {
        fs.closeSync(fd);
    }
}

/** Offset of the `n`th character after `"key": ` in the meta JSON. */
function metaValueAt(file: string, key: string, n = 0): number {
    const text = fs.readFileSync(file).subarray(0, 4096).toString("latin1");
    const i = text.indexOf(`"${key}": `);
    assert.ok(i > 0, `${key} in ${file}`);
    return i + key.length + 4 + n;
}

/** Moves data file `name` (and its .chksum) to `to`. */
function renameData(dir: string, name: string, to: string): void {
    fs.renameSync(path.join(dir, name), path.join(dir, to));
    if (fs.existsSync(path.join(dir, `${name}.chksum`)))
        fs.renameSync(path.join(dir, `${name}.chksum`), path.join(dir, `${to}.chksum`));
}

// ---- the cases

type Kind = "plain" | "lz4";
interface Case {
    name: string;
    /** Damages the copy of the chain in `dir`; `other` is the other VM's chain folder. */
    damage: (dir: string, kind: Kind, other: string) => void;
    /** Restore points (indexes) the damage touches; the newest state is always checked too. */
    points: number[];
    /** Only with .chksum files (the damage is to one). */
    withChecksumOnly?: boolean;
    /** The damaged data file, for the "not checkable" listing. */
    file?: string;
}

const CASES: Case[] = [
    { name: "bit flip: data frame kind", points: [2, 3], file: inc(2), damage: dir => flip(path.join(dir, inc(2)), framesOf(path.join(dir, inc(2))).data[0].at, 0x02) },
    { name: "bit flip: data frame start (last digit)", points: [2, 3], file: inc(2), damage: dir => flip(path.join(dir, inc(2)), framesOf(path.join(dir, inc(2))).data[0].at + 20, 0x01) },
    { name: "bit flip: data frame start (high digit)", points: [2, 3], file: inc(2), damage: dir => flip(path.join(dir, inc(2)), framesOf(path.join(dir, inc(2))).data[0].at + 12, 0x01) },
    { name: "bit flip: data frame length", points: [1, 2], file: inc(1), damage: dir => flip(path.join(dir, inc(1)), framesOf(path.join(dir, inc(1))).data[0].at + 37, 0x01) },
    { name: "bit flip: header separator", points: [1, 2], file: inc(1), damage: dir => flip(path.join(dir, inc(1)), framesOf(path.join(dir, inc(1))).data[0].at + 4, 0x10) },
    { name: "bit flip: header CRLF", points: [3], file: inc(3), damage: dir => flip(path.join(dir, inc(3)), framesOf(path.join(dir, inc(3))).data[0].at + 38, 0x01) },
    { name: "bit flip: zero frame length of the full", points: [0, 1], file: FULL, damage: dir => flip(path.join(dir, FULL), framesOf(path.join(dir, FULL)).zero[0] + 34, 0x01) },
    { name: "bit flip: first data byte of the full", points: [0, 3], file: FULL, damage: dir => flip(path.join(dir, FULL), framesOf(path.join(dir, FULL)).data[0].payload + 20, 0x08) },
    { name: "bit flip: data in the middle of an inc", points: [2, 3], file: inc(2), damage: dir => {
        const d = framesOf(path.join(dir, inc(2))).data[0];
        flip(path.join(dir, inc(2)), d.payload + Math.floor(d.stored / 2), 0x40);
    } },
    { name: "bit flip: last data byte of the newest inc", points: [3], file: inc(3), damage: dir => {
        const d = framesOf(path.join(dir, inc(3))).data.at(-1)!;
        flip(path.join(dir, inc(3)), d.payload + d.stored - 1, 0x01);
    } },
    { name: "bit flip: CRLF after a payload", points: [2, 3], file: inc(2), damage: dir => {
        const d = framesOf(path.join(dir, inc(2))).data[0];
        flip(path.join(dir, inc(2)), d.payload + d.stored, 0x01);
    } },
    { name: "bit flip: stop frame", points: [1, 2], file: inc(1), damage: dir => flip(path.join(dir, inc(1)), framesOf(path.join(dir, inc(1))).stop, 0x01) },
    { name: "bit flip: last byte of the file", points: [2, 3], file: inc(2), damage: dir => {
        const f = path.join(dir, inc(2));
        flip(f, fs.statSync(f).size - 3, 0x01);
    } },
    { name: "bit flip: meta dataSize", points: [1, 2], file: inc(1), damage: dir => flip(path.join(dir, inc(1)), metaValueAt(path.join(dir, inc(1)), "dataSize", 1), 0x01) },
    { name: "bit flip: meta checkpointName", points: [2, 3], file: inc(2), damage: dir => flip(path.join(dir, inc(2)), metaValueAt(path.join(dir, inc(2)), "checkpointName", 15), 0x01) },
    { name: "bit flip: meta parentCheckpoint", points: [3], file: inc(3), damage: dir => flip(path.join(dir, inc(3)), metaValueAt(path.join(dir, inc(3)), "parentCheckpoint", 15), 0x01) },
    { name: "bit flip: meta domainUuid", points: [1, 2], file: inc(1), damage: dir => {
        const f = path.join(dir, inc(1));
        const at = metaValueAt(f, "domainUuid", 1);
        // A hex digit that stays one: another VM's UUID, well-formed.
        const c = fs.readFileSync(f)[at];
        flip(f, at, c >= 0x30 && c <= 0x37 ? 0x01 : c === 0x38 || c === 0x39 ? 0x01 : 0x02);
    } },
    { name: "bit flip: meta JSON brace", points: [2, 3], file: inc(2), damage: dir => flip(path.join(dir, inc(2)), FRAME_HEADER_LENGTH, 0x01) },
    { name: "bit flip: meta frame length", points: [2, 3], file: inc(2), damage: dir => flip(path.join(dir, inc(2)), 37, 0x02) },
    { name: "bit flip: meta date", points: [1, 2], file: inc(1), damage: dir => flip(path.join(dir, inc(1)), metaValueAt(path.join(dir, inc(1)), "date", 18), 0x01) },
    { name: "bit flip: meta diskFormat", points: [0, 1], file: FULL, damage: dir => flip(path.join(dir, FULL), metaValueAt(path.join(dir, FULL), "diskFormat", 1), 0x04) },
    { name: "truncated by 1 byte", points: [2, 3], file: inc(2), damage: dir => {
        const f = path.join(dir, inc(2));
        fs.truncateSync(f, fs.statSync(f).size - 1);
    } },
    { name: "truncated to half", points: [2, 3], file: inc(2), damage: dir => {
        const f = path.join(dir, inc(2));
        fs.truncateSync(f, Math.floor(fs.statSync(f).size / 2));
    } },
    { name: "truncated inside the meta header", points: [0, 2], file: FULL, damage: dir => fs.truncateSync(path.join(dir, FULL), 30) },
    { name: "truncated before the stop frame", points: [1, 2], file: inc(1), damage: dir => fs.truncateSync(path.join(dir, inc(1)), framesOf(path.join(dir, inc(1))).stop) },
    { name: "truncated to 0 bytes", points: [3], file: inc(3), damage: dir => fs.truncateSync(path.join(dir, inc(3)), 0) },
    { name: "middle inc deleted", points: [3], damage: dir => {
        fs.rmSync(path.join(dir, inc(2)));
        fs.rmSync(path.join(dir, `${inc(2)}.chksum`), { force: true });
    } },
    { name: "newest inc deleted", points: [2], damage: dir => {
        fs.rmSync(path.join(dir, inc(3)));
        fs.rmSync(path.join(dir, `${inc(3)}.chksum`), { force: true });
    } },
    { name: "incs 1 and 2 swapped", points: [1, 2, 3], damage: dir => {
        renameData(dir, inc(1), "swap");
        renameData(dir, inc(2), inc(1));
        renameData(dir, "swap", inc(2));
    } },
    { name: "foreign VM's inc of the same name", points: [2, 3], damage: (dir, _kind, other) => {
        for (const name of [inc(2), `${inc(2)}.chksum`]) {
            if (fs.existsSync(path.join(dir, name)))
                fs.copyFileSync(path.join(other, name), path.join(dir, name));
        }
    } },
    { name: "damaged <vm>.cpt", points: [0, 3], damage: dir => {
        const cpt = fs.readdirSync(dir).find(n => n.endsWith(".cpt"))!;
        const f = path.join(dir, cpt);
        fs.truncateSync(f, Math.floor(fs.statSync(f).size / 2));
    } },
    { name: "<vm>.cpt lost its last checkpoint", points: [3], damage: dir => {
        const cpt = fs.readdirSync(dir).find(n => n.endsWith(".cpt"))!;
        const list = JSON.parse(fs.readFileSync(path.join(dir, cpt), "utf8")) as string[];
        fs.writeFileSync(path.join(dir, cpt), JSON.stringify(list.slice(0, -1)));
    } },
    { name: "damaged saved qemu-img info", points: [1, 2], damage: dir => {
        const f = path.join(dir, "vda.virtnbdbackup.1.qcow.json");
        fs.truncateSync(f, Math.floor(fs.statSync(f).size / 2));
    } },
    { name: "foreign VM's checkpoint XML", points: [0, 3], damage: (dir, _kind, other) =>
        fs.copyFileSync(path.join(other, "checkpoints/virtnbdbackup.1.xml"), path.join(dir, "checkpoints/virtnbdbackup.1.xml")) },
    { name: "damaged .chksum (a digit)", withChecksumOnly: true, points: [1, 2], damage: dir => {
        const f = path.join(dir, `${inc(1)}.chksum`);
        flip(f, 0, 0x01);
    } },
    { name: "damaged .chksum (not a number)", withChecksumOnly: true, points: [2, 3], damage: dir => fs.writeFileSync(path.join(dir, `${inc(2)}.chksum`), "12a4") },
];

// ---- running one case

interface Outcome {
    ok: boolean;
    message: string;
}

interface Row {
    case: string;
    point: string;
    restore: string;
    verify: string;
    page: string;
}

const rows: Row[] = [];
const undetectable: string[] = [];
let outNo = 0;

function short(o: Outcome, identical?: boolean): string {
    if (o.ok)
        return identical === undefined ? "ok" : identical ? "ok, identical" : "ok, DIFFERS";
    return `refused: ${o.message.replace(tmp, "").slice(0, 90)}`;
}

async function runCase(c: Case, kind: Kind, checksums: boolean): Promise<void> {
    const chain = chains[kind];
    const other = chains[kind === "plain" ? "lz4" : "plain"].dir;
    const dir = path.join(tmp, `case-${++outNo}`);
    fs.cpSync(chain.dir, dir, { recursive: true });
    if (!checksums) {
        for (const n of fs.readdirSync(dir).filter(n => n.endsWith(".chksum")))
            fs.rmSync(path.join(dir, n));
    }
    c.damage(dir, kind, other);
    const label = `${c.name} [${kind}, ${checksums ? "with" : "without"} .chksum]`;
    // Each touched point as the page restores it (-u <its data file> -r), and the newest state (no -u).
    const selections: { point: string; until?: string; expected: string }[] = [
        ...c.points.map(n => ({ point: `virtnbdbackup.${n}`, until: fileOfPoint(n), expected: chain.expected[n] })),
        { point: "newest", expected: chain.expected[WRITES.length - 1] },
    ];
    for (const sel of selections) {
        const output = path.join(tmp, `out-${outNo}-${sel.point}`);
        let restore: Outcome;
        let identical: boolean | undefined;
        try {
            const result = await runRestore({ input: dir, output, until: sel.until, raw: true });
            restore = { ok: true, message: "" };
            identical = (await compareImages(result.disks[0].output, sel.expected)).identical;
        } catch (err) {
            restore = { ok: false, message: (err as Error).message };
        }
        fs.rmSync(output, { recursive: true, force: true });
        // With -u: exactly that point. Without: every point, each as its own restore would, and the
        // newest state, which is what a restore without -u makes.
        const v = await runVerify({ input: dir, until: sel.until, raw: true });
        const newest = sel.until ? undefined : v.problems.find(p => p.point === "newest");
        const verify: Outcome = sel.until ? { ok: v.ok, message: v.message ?? "" } : { ok: !newest, message: newest?.reason ?? "" };
        if (!sel.until)
            assert.equal(v.ok, v.problems.length === 0);
        // The page's Verify of the point, when the page lists it.
        let page: Outcome | undefined;
        if (sel.until && fs.existsSync(path.join(dir, sel.until))) {
            try {
                const answer = await verifyPoint(dir, chain.vm.name, sel.point, () => {});
                page = { ok: answer.ok, message: answer.problems[0] ?? "" };
            } catch (err) {
                page = { ok: false, message: `not listed: ${(err as Error).message}` };
            }
        }
        rows.push({ case: label, point: sel.point, restore: short(restore, identical), verify: short(verify), page: page ? short(page) : "-" });

        const where = `${label}, ${sel.point}`;
        assert.equal(verify.ok, restore.ok, `${where}: verify ${short(verify)} but restore ${short(restore)}`);
        if (!restore.ok) {
            assert.equal(verify.message, restore.message, `${where}: verify gives restore's reason`);
            assert.ok(restore.message.length > 0 && !restore.message.includes("\n"), `${where}: one clear line`);
        }
        if (page && !page.message.startsWith("not listed")) {
            assert.equal(page.ok, restore.ok, `${where}: the page's verify ${short(page)} but restore ${short(restore)}`);
            if (!restore.ok)
                assert.equal(page.message, restore.message, `${where}: the page shows restore's reason`);
        }
        if (restore.ok && !identical) {
            assert.ok(!checksums, `${where}: a silently wrong restore although .chksum files exist`);
            // What the format cannot detect: verify must say it could not check that file's content.
            const entry = v.files.find(f => f.file === c.file);
            assert.ok(entry?.unchecked && /not verifiable|nothing else/.test(entry.unchecked), `${where}: verify says ${c.file} could not be checked: ${JSON.stringify(entry)}`);
            undetectable.push(where);
        }
    }
    fs.rmSync(dir, { recursive: true, force: true });
}

test("the undamaged chains restore at every point and verify, checksums and UUIDs checked", async () => {
    for (const kind of ["plain", "lz4"] as const) {
        const v = await runVerify({ input: chains[kind].dir });
        assert.equal(v.ok, true, v.message ?? "");
        assert.ok(v.files.length === 4 && v.files.every(f => f.ok && f.checksum === "ok" && f.unchecked === undefined), JSON.stringify(v.files));
        assert.ok(v.files.every(f => (f.lz4 === "ok") === (kind === "lz4")));
        const meta = parseMeta(fs.readFileSync(path.join(chains[kind].dir, inc(1))).subarray(FRAME_HEADER_LENGTH, FRAME_HEADER_LENGTH + framesOf(path.join(chains[kind].dir, inc(1))).metaLength));
        assert.equal(meta.domainUuid, (await chains[kind].vm.hmp("info uuid")).trim());
    }
});

test(`${CASES.length * 4 - CASES.filter(c => c.withChecksumOnly).length * 2} corruptions: verify refuses exactly what restore refuses; with .chksum nothing restores wrong`, { timeout: 600_000 }, async () => {
    const started = Date.now();
    let failure: unknown;
    try {
        for (const c of CASES) {
            for (const kind of ["plain", "lz4"] as const) {
                for (const checksums of [true, false]) {
                    if (c.withChecksumOnly && !checksums)
                        continue;
                    await runCase(c, kind, checksums);
                }
            }
        }
    } catch (err) {
        failure = err;
    } finally {
        const width = Math.max(...rows.map(r => r.case.length));
        console.log(`# ${"case".padEnd(width)} | point           | restore | verify | page's verify`);
        for (const r of rows)
            console.log(`# ${r.case.padEnd(width)} | ${r.point.padEnd(15)} | ${r.restore} | ${r.verify} | ${r.page}`);
        console.log(`# ${rows.length} restores in ${((Date.now() - started) / 1000).toFixed(1)} s; not detectable by the format without .chksum ` +
            `(verify says the content was not checked): ${undetectable.length ? undetectable.join("; ") : "none"}`);
    }
    if (failure)
        throw failure;
    assert.ok(rows.filter(r => r.restore.startsWith("refused")).length > 0);
});
