// SPDX-License-Identifier: GPL-3.0-or-later
// The plumbing the CLIs share (virtnbdbackup, virtnbdrestore, virtnbdmap, virtnbdprune): what stops a run
// before its end, how its events come out, and how it ends.
// - Stops: SIGINT/SIGTERM (and SIGHUP for a CLI that asks for it), and output that can no longer be written (`--json | head`: the reader is gone,
//   EPIPE). Either cancels the run through one AbortSignal, so it cleans up as a cancel does and exits
//   non-zero; a second signal exits at once (code 130). With a listener for the streams' 'error' events, a
//   failed write (and any later one) no longer ends the process with an unhandled error and a stack trace.
// - Events: with --json one JSON object per line on stdout; else text on stderr, and on a TTY one
//   self-redrawing progress line per job.
// - End: exit code 0; on failure one line `<name>: <message>` on stderr (with --json also an "error" event)
//   and exit code 1.

/**
 * Calls `first` on the first of `signals`; on a second one runs `beforeForcedExit` and exits with code 130
 * (no more waiting for what the first one asked to stop). Returns the function that counts another reason
 * to stop (stdin closed) as such a signal.
 */
export function onInterrupts(signals: readonly NodeJS.Signals[], first: (why: string) => void, beforeForcedExit?: () => void): (why: string) => void {
    let received = 0;
    const interrupt = (why: string) => {
        if (++received > 1) {
            beforeForcedExit?.();
            process.exit(130);
        }
        first(why);
    };
    for (const sig of signals)
        process.on(sig, () => interrupt(sig));
    return interrupt;
}

/**
 * Starts watching SIGINT, SIGTERM (plus `more`, e.g. SIGHUP) and the output streams; the returned signal aborts
 * with the reason as an Error ("cancelled by SIGTERM", "cancelled: cannot write to stdout (EPIPE)").
 */
export function watchInterrupts(beforeForcedExit?: () => void, more: readonly NodeJS.Signals[] = []): AbortSignal {
    const controller = new AbortController();
    const cancel = (why: string) => {
        if (!controller.signal.aborted)
            controller.abort(new Error(why));
    };
    onInterrupts(["SIGINT", "SIGTERM", ...more], sig => cancel(`cancelled by ${sig}`), beforeForcedExit);
    for (const [name, stream] of [["stdout", process.stdout], ["stderr", process.stderr]] as const) {
        stream.on("error", (err: NodeJS.ErrnoException) => {
            cancel(`cancelled: cannot write to ${name} (${err.code ?? err.message})`);
        });
    }
    return controller.signal;
}

/** An error's message as one line: its lines, trimmed, joined with ": ". */
export function oneLine(err: unknown): string {
    const message = err instanceof Error ? err.message : String(err);
    return message.split("\n").map(s => s.trim()).filter(Boolean).join(": ");
}

/** One JSON object as one line on stdout. */
export function printJson(value: object): void {
    process.stdout.write(JSON.stringify(value) + "\n");
}

/**
 * A failed run: with `json` an "error" event (plus `extra`, e.g. the file at fault) on stdout; always
 * `<name>: <message>` on stderr; exit code 1. Returns the message.
 */
export function reportFailure(name: string, err: unknown, json: boolean, extra: object = {}): string {
    const message = oneLine(err);
    if (json)
        printJson({ event: "error", message, ...extra });
    process.stderr.write(`${name}: ${message}\n`);
    process.exitCode = 1;
    return message;
}

export interface CliRunOptions {
    /** The program's name, which starts its error line. */
    name: string;
    /** --json: events as JSON lines on stdout. */
    json: boolean;
    /** Draw the progress line (only ever on a TTY, never with --json). */
    progress: boolean;
    /** With --json, progress events at most this often (ms), plus each one at 0 and at the end; default all. */
    jsonProgressMs?: number;
    /** Runs on a second signal, just before exit code 130 (synchronous cleanup). */
    beforeForcedExit?: () => void;
    /** SIGHUP (the terminal closed) cancels the run too, instead of killing it outright. */
    hangup?: boolean;
}

/** The event fields the plumbing reads; the rest is each CLI's own. */
interface AnyEvent {
    event: string;
    done?: number;
    total?: number;
}

/** One run of a CLI: its cancel signal and its output. */
export class CliRun {
    readonly signal: AbortSignal;
    readonly json: boolean;
    private readonly bar: ProgressLine | undefined;
    private lastJsonProgress = 0;

    constructor(private readonly options: CliRunOptions) {
        this.signal = watchInterrupts(options.beforeForcedExit, options.hangup ? ["SIGHUP"] : []);
        this.json = options.json;
        this.bar = options.json || !options.progress ? undefined : progressLine();
    }

    /**
     * With --json: prints the event (a progress event only as often as jsonProgressMs allows) and returns
     * true. Without: false, for the caller to say it as text.
     */
    jsonEvent(e: AnyEvent): boolean {
        if (!this.json)
            return false;
        const every = this.options.jsonProgressMs;
        if (e.event === "progress" && every !== undefined && e.done !== undefined && e.total !== undefined) {
            const now = Date.now();
            if (now - this.lastJsonProgress < every && e.done !== 0 && e.done < e.total)
                return true;
            this.lastJsonProgress = now;
        }
        printJson(e);
        return true;
    }

    progress(label: string, done: number, total: number): void {
        this.bar?.update(label, done, total);
    }

    /** Ends the progress line (before any other output after it); may be called more than once. */
    endProgress(): void {
        this.bar?.end();
    }

    warn(message: string): void {
        process.stderr.write(`warning: ${message}\n`);
    }

    /** A line of text for the person at the terminal, on stderr. */
    say(line: string): void {
        process.stderr.write(`${line}\n`);
    }

    /** The run failed: see reportFailure. */
    fail(err: unknown, extra: object = {}): string {
        this.endProgress();
        return reportFailure(this.options.name, err, this.json, extra);
    }
}

interface ProgressLine {
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

/** One self-redrawing line per job on `stream`, redrawn at most every 200 ms; nothing when it is no TTY. */
function progressLine(stream: NodeJS.WriteStream = process.stderr): ProgressLine {
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
            drawn = false;
        },
    };
}
