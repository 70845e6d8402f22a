// SPDX-License-Identifier: GPL-3.0-or-later
// Progress for people at a terminal: one self-redrawing line per job on stderr, only on a TTY.
export interface ProgressLine {
    update(label: string, done: number, total: number): void;
    end(): void;
}

function bytes(n: number): string {
    const units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let i = 0;
    while (n >= 1024 && i < units.length - 1) {
        n /= 1024;
        i++;
    }
    return `${n.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

export function formatProgress(label: string, done: number, total: number, seconds: number, width = 24): string {
    const fraction = total > 0 ? Math.min(1, done / total) : 1;
    const filled = Math.round(fraction * width);
    const rate = seconds > 0 ? done / seconds : 0;
    const eta = rate > 0 && done < total ? `, ${Math.ceil((total - done) / rate)} s left` : "";
    return `${label} [${"#".repeat(filled)}${"-".repeat(width - filled)}] ${Math.floor(fraction * 100)}% ` +
        `${bytes(done)}/${bytes(total)} ${bytes(rate)}/s${eta}`;
}

export function progressLine(stream: NodeJS.WriteStream = process.stderr): ProgressLine {
    const started = new Map<string, number>();
    const state = new Map<string, string>();
    let lastDraw = 0;
    let drawn = false;
    const draw = (force: boolean) => {
        const now = Date.now();
        if (!force && now - lastDraw < 200)
            return;
        lastDraw = now;
        stream.write(`\r\x1b[K${[...state.values()].join("  ")}`);
        drawn = true;
    };
    if (!stream.isTTY)
        return { update() {}, end() {} };
    return {
        update(label, done, total) {
            if (!started.has(label))
                started.set(label, Date.now());
            state.set(label, formatProgress(label, done, total, (Date.now() - started.get(label)!) / 1000));
            draw(done >= total);
        },
        end() {
            if (drawn)
                stream.write("\n");
        },
    };
}
