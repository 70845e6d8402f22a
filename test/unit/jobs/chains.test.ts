// SPDX-License-Identifier: GPL-3.0-or-later
// Chain folder names, the keep-last-N plan, which files a removal takes, and the retention policy rule.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { chainFolderName, chainNumber, isOlderSiblingChain, isSiblingChain, nextChainName, sortChains } from "../../../helper/format/chain-folders.ts";
import { chainIdents, chainsToRemove, isBackupFile } from "../../../helper/jobs/prune.ts";
import { checkKeepChains, checkNewChain, startsNewChain } from "../../../helper/protocol/retention-rules.ts";

describe("chain folder names", () => {
    test("chain-N from 2 on (the folder itself is the first chain)", () => {
        assert.equal(chainFolderName(2), "chain-2");
        assert.throws(() => chainFolderName(1));
        assert.equal(chainNumber("chain-12"), 12);
        for (const bad of ["chain-1", "chain-0", "chain-02", "chain-x", "chain-", "chain-2/", "xchain-2", "chain-1234567"])
            assert.equal(chainNumber(bad), undefined, bad);
        assert.equal(nextChainName([]), "chain-2");
        assert.equal(nextChainName(["chain-2", "chain-10", "other"]), "chain-11");
        assert.deepEqual(sortChains(["chain-10", "", "chain-3"]), ["", "chain-3", "chain-10"]);
    });
    test("siblings: chain subfolders of one folder, and the folder itself with one of them", () => {
        assert.equal(isSiblingChain("/b/vm/chain-3", "/b/vm/chain-2"), true);
        assert.equal(isSiblingChain("/b/vm/chain-2", "/b/vm"), true);
        assert.equal(isSiblingChain("/b/vm", "/b/vm/chain-2"), true);
        assert.equal(isSiblingChain("/b/vm/chain-2", "/b/other/chain-2"), false);
        assert.equal(isSiblingChain("/b/vm", "/b/other"), false);
        assert.equal(isSiblingChain("/b/vm/chain-2", "/b/vm/chain-2"), false);
        assert.equal(isSiblingChain("/b/vm/chain-2", "/b/vm/x/chain-3"), false);
    });
    test("older siblings: a new chain ends them; a full into an older chain does not end a newer one quietly", () => {
        assert.equal(isOlderSiblingChain("/b/vm/chain-3", "/b/vm/chain-2"), true);
        assert.equal(isOlderSiblingChain("/b/vm/chain-2", "/b/vm"), true);
        assert.equal(isOlderSiblingChain("/b/vm", "/b/vm/chain-2"), false);
        assert.equal(isOlderSiblingChain("/b/vm/chain-2", "/b/vm/chain-10"), false);
    });
});

describe("keep the last N chains", () => {
    test("removes all but the last N, never the newest", () => {
        assert.deepEqual(chainsToRemove(["", "chain-2", "chain-3"], 2), [""]);
        assert.deepEqual(chainsToRemove(["", "chain-2", "chain-3"], 5), []);
        assert.deepEqual(chainsToRemove(["a", "b"], 0), ["a"]);
        assert.deepEqual(chainsToRemove([], 1), []);
    });
    test("a removal takes the files runs write, not the user's", () => {
        const names = ["vda.full.data", "vda.full.data.chksum", "vda.inc.virtnbdbackup.1.data", "vda.diff.1700000000.data", "sda.copy.data"];
        const idents = chainIdents(names);
        assert.deepEqual([...idents].sort(), ["1700000000", "copy", "virtnbdbackup.0", "virtnbdbackup.1"]);
        for (const ours of [...names, "vm1.cpt", "vmconfig.virtnbdbackup.0.xml", "vda.virtnbdbackup.1.qcow.json", "backup.full.12062026101010.log",
                            "OVMF_VARS.fd.virtnbdbackup.0", "vmlinuz.1700000000", ".virtnbdbackup.journal", "vdb.inc.virtnbdbackup.2.data.partial",
                            ".virtnbdbackup.consolidate"])
            assert.equal(isBackupFile(ours, idents), true, ours);
        for (const theirs of ["NOTES.txt", "chain-2", "virtnbdbackup.0", "backup.sh", "vmconfig.xml", "notes.virtnbdbackup.10"])
            assert.equal(isBackupFile(theirs, idents), false, theirs);
    });
    test("the policy: 1..1000, empty or all keeps all; anything else refused", () => {
        assert.deepEqual(checkKeepChains("3"), { keep: 3 });
        assert.deepEqual(checkKeepChains(" 1 "), { keep: 1 });
        assert.deepEqual(checkKeepChains(""), { keep: null });
        assert.deepEqual(checkKeepChains("all"), { keep: null });
        assert.deepEqual(checkKeepChains(null), { keep: null });
        assert.deepEqual(checkKeepChains("0"), { problem: "too-small" });
        assert.deepEqual(checkKeepChains("-2"), { problem: "too-small" });
        assert.deepEqual(checkKeepChains("1001"), { problem: "too-big" });
        assert.deepEqual(checkKeepChains("99999999999999999999"), { problem: "too-big" });
        for (const bad of ["abc", "1.5", "1e3", "2x", "0x10"])
            assert.deepEqual(checkKeepChains(bad), { problem: "not-a-number" }, bad);
    });
});

describe("a new chain every N backups / week / month", () => {
    test("the policy: never, week, month or 2..1000 backups; anything else refused", () => {
        assert.deepEqual(checkNewChain("never"), { policy: "never" });
        assert.deepEqual(checkNewChain("month"), { policy: "month" });
        assert.deepEqual(checkNewChain("7"), { policy: 7 });
        assert.deepEqual(checkNewChain(3), { policy: 3 });
        for (const bad of ["1", "0", "-3", "1001"])
            assert.deepEqual(checkNewChain(bad), { problem: "bad-backup-count" }, bad);
        for (const bad of ["daily", "", "2.5", null, {}])
            assert.deepEqual(checkNewChain(bad), { problem: "unknown-new-chain" }, String(bad));
    });
    test("when a scheduled backup starts one", () => {
        const at = (s: string) => new Date(s);
        assert.equal(startsNewChain(3, { points: 2, firstDate: at("2026-12-01T02:00:00") }, at("2026-12-03T02:00:00")), false);
        assert.equal(startsNewChain(3, { points: 3, firstDate: at("2026-12-01T02:00:00") }, at("2026-12-04T02:00:00")), true);
        assert.equal(startsNewChain("never", { points: 300, firstDate: at("2020-01-01T02:00:00") }, at("2026-12-04T02:00:00")), false);
        assert.equal(startsNewChain(2, undefined, at("2026-12-04T02:00:00")), false);
        // 2026-12-06 is a Sunday, 2026-12-07 a Monday.
        assert.equal(startsNewChain("week", { points: 5, firstDate: at("2026-11-30T02:00:00") }, at("2026-12-06T23:59:00")), false);
        assert.equal(startsNewChain("week", { points: 5, firstDate: at("2026-12-06T02:00:00") }, at("2026-12-07T00:01:00")), true);
        assert.equal(startsNewChain("month", { points: 5, firstDate: at("2026-12-01T02:00:00") }, at("2026-12-31T23:00:00")), false);
        assert.equal(startsNewChain("month", { points: 5, firstDate: at("2026-12-31T23:00:00") }, at("2027-01-01T01:00:00")), true);
    });
});
