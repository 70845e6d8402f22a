// SPDX-License-Identifier: GPL-3.0-or-later
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { encodeMeta, FormatError, isCompressed, isoLocalDate, parseMeta, type StreamMeta } from "../../../helper/format/index.ts";

const sample: StreamMeta = {
    virtualSize: 10737418240,
    dataSize: 1234567,
    date: "2024-05-06T07:08:09.123456",
    diskName: "vda",
    diskFormat: "qcow2",
    checkpointName: "virtnbdbackup.3",
    compressed: 2,
    compressionMethod: "lz4",
    parentCheckpoint: "virtnbdbackup.2",
    incremental: true,
    streamVersion: 2,
};

const expected = `{
    "virtualSize": 10737418240,
    "dataSize": 1234567,
    "date": "2024-05-06T07:08:09.123456",
    "diskName": "vda",
    "diskFormat": "qcow2",
    "checkpointName": "virtnbdbackup.3",
    "compressed": 2,
    "compressionMethod": "lz4",
    "parentCheckpoint": "virtnbdbackup.2",
    "incremental": true,
    "streamVersion": 2
}`;

test("encodes like json.dumps(meta, indent=4), in the other tool's key order", () => {
    assert.equal(encodeMeta(sample).toString("utf8"), expected);
    // key order comes from the format, not from the object handed in
    const shuffled = Object.fromEntries(Object.entries(sample).reverse()) as unknown as StreamMeta;
    assert.equal(encodeMeta(shuffled).toString("utf8"), expected);
});

test("matches Python's json.dumps byte for byte, including escapes", () => {
    const odd: StreamMeta = { ...sample, compressed: false, parentCheckpoint: "", incremental: false, date: "tab\there \"q\" \\ ü € 😀 \u007f" };
    const script = "import json,sys; m=json.loads(sys.stdin.read()); sys.stdout.buffer.write(json.dumps(m, indent=4).encode('utf-8'))";
    const python = execFileSync("/usr/bin/python3", ["-c", script], { input: JSON.stringify(odd) });
    assert.deepEqual(encodeMeta(odd), python);
    assert.match(python.toString("latin1"), /\\u00fc \\u20ac \\ud83d\\ude00 \\u007f/);
});

test("round-trips and reports compression", () => {
    assert.deepEqual(parseMeta(encodeMeta(sample)), sample);
    assert.equal(isCompressed(sample), true);
    assert.equal(isCompressed({ compressed: 0 }), true); // the other tool tests `is not False`
    assert.equal(isCompressed({ compressed: false }), false);
});

test("accepts any valid JSON with the keys, ignoring extra keys", () => {
    const compact = JSON.stringify({ ...sample, futureKey: [1, 2] });
    assert.deepEqual(parseMeta(compact), sample);
    assert.deepEqual(parseMeta(Buffer.from(compact)), sample);
});

test("names the bad key", () => {
    const bad = (patch: Record<string, unknown>, re: RegExp) => {
        const text = JSON.stringify({ ...sample, ...patch });
        assert.throws(() => parseMeta(text), (err: unknown) => err instanceof FormatError && re.test(err.message), JSON.stringify(patch));
    };
    bad({ virtualSize: -1 }, /meta key "virtualSize" must be an integer/);
    bad({ virtualSize: "10" }, /meta key "virtualSize" must be an integer/);
    bad({ virtualSize: 2 ** 53 }, /meta key "virtualSize" must be an integer/);
    bad({ dataSize: 1.5 }, /meta key "dataSize" must be an integer/);
    bad({ dataSize: sample.virtualSize + 1 }, /meta key "dataSize" \(10737418241\) exceeds virtualSize/);
    bad({ date: 5 }, /meta key "date" must be a string/);
    bad({ diskName: "" }, /meta key "diskName" must not be empty/);
    bad({ diskFormat: null }, /meta key "diskFormat" must be a string/);
    bad({ checkpointName: [] }, /meta key "checkpointName" must be a string/);
    bad({ compressed: true }, /meta key "compressed" must be false or an integer/);
    bad({ compressed: "2" }, /meta key "compressed" must be false or an integer/);
    bad({ compressionMethod: "zstd" }, /meta key "compressionMethod" must be "lz4"/);
    bad({ parentCheckpoint: false }, /meta key "parentCheckpoint" must be a string/);
    bad({ incremental: "yes" }, /meta key "incremental" must be true or false/);
    bad({ streamVersion: 1 }, /meta key "streamVersion" must be 2, got 1/);
    for (const key of Object.keys(sample)) {
        const copy: Record<string, unknown> = { ...sample };
        delete copy[key];
        assert.throws(() => parseMeta(JSON.stringify(copy)), new RegExp(`meta key "${key}" is missing`));
    }
    assert.throws(() => parseMeta("{\"virtualSize\": 1,"), /meta frame is not valid JSON/);
    assert.throws(() => parseMeta("[1]"), /meta frame JSON is not an object/);
    assert.throws(() => encodeMeta({ ...sample, dataSize: -5 }), /meta key "dataSize"/);
    // uncompressed streams may carry any method string (the other tool always writes "lz4")
    assert.equal(parseMeta(JSON.stringify({ ...sample, compressed: false, compressionMethod: "" })).compressionMethod, "");
});

test("our domainUuid key comes after the other tool's keys, and is optional when reading", () => {
    const uuid = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";
    const text = encodeMeta({ ...sample, domainUuid: uuid }).toString("utf8");
    // The other tool's bytes, then one more key: its readers take the JSON as a dict and ignore it.
    assert.equal(text, expected.replace(/\n}$/, `,\n    "domainUuid": "${uuid}"\n}`));
    assert.deepEqual(parseMeta(text), { ...sample, domainUuid: uuid });
    // Files of the other tool have none.
    assert.equal(parseMeta(expected).domainUuid, undefined);
    assert.ok(!("domainUuid" in parseMeta(expected)));
    for (const bad of ["", "not-a-uuid", 5, null, "0f1e2d3c4b5a69788796a5b4c3d2e1f0"])
        assert.throws(() => parseMeta(JSON.stringify({ ...sample, domainUuid: bad })), /meta key "domainUuid" must be a UUID/, JSON.stringify(bad));
    // Python reads it back as a dict with the key, every other key unchanged.
    const script = "import json,sys; m=json.loads(sys.stdin.read()); print(m['domainUuid'], m['checkpointName'], m['streamVersion'])";
    assert.equal(execFileSync("/usr/bin/python3", ["-c", script], { input: text, encoding: "utf8" }).trim(), `${uuid} virtnbdbackup.3 2`);
});

test("formats dates like datetime.now().isoformat()", () => {
    assert.equal(isoLocalDate(new Date(2024, 0, 2, 3, 4, 5, 6)), "2024-01-02T03:04:05.006000");
    assert.equal(isoLocalDate(new Date(2024, 11, 31, 23, 59, 58, 0)), "2024-12-31T23:59:58");
    const script = "import datetime; print(datetime.datetime(2024,1,2,3,4,5,6000).isoformat())";
    assert.equal(execFileSync("/usr/bin/python3", ["-c", script], { encoding: "utf8" }).trim(), "2024-01-02T03:04:05.006000");
});
