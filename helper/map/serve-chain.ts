// SPDX-License-Identifier: GPL-3.0-or-later
// One disk's chain served by nbdkit with our plugin: its index written into a mapping folder, the server
// started on a socket beside it. Used by mapPoint (one per disk) and by restore (a convert from it).
import fs from "node:fs";
import path from "node:path";
import { writeNewFile } from "../fs/safe-open.ts";
import type { BackupFile } from "../restore/chain.ts";
import { buildMapIndex } from "./build-index.ts";
import { encodeMapIndex } from "./index-file.ts";
import type { MapDir } from "./map-dirs.ts";
import { NbdkitServer } from "./nbdkit-server.ts";

/** Serves `members` (restore order, checked by check-point.ts) of disk `dev` from folder `dir`. */
export async function serveChain(mapDir: MapDir, dir: string, dev: string, members: readonly BackupFile[]): Promise<NbdkitServer> {
    const index = mapDir.file(`${dev}.index`);
    // Recorded before the files are read: a pruning that starts meanwhile finds them in use.
    const real = fs.realpathSync(dir);
    mapDir.addFiles(members.map(m => path.join(real, m.name)));
    await writeNewFile(index, encodeMapIndex(await buildMapIndex(dir, members)));
    try {
        return await NbdkitServer.start(index, mapDir.file(`${dev}.sock`), pid => mapDir.addServer(pid));
    } catch (err) {
        throw new Error(`cannot serve disk ${dev} of ${path.basename(dir)}: ${(err as Error).message}`);
    }
}
