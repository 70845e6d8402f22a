// SPDX-License-Identifier: GPL-3.0-or-later
/** Where in which file a format problem was found; both parts are optional. */
export interface FormatLocation {
    file?: string;
    offset?: number;
}

/**
 * A backup file (or a piece of one) does not follow the stream format. `detail` is the bare reason;
 * the message also names the file and byte offset when they are known.
 */
export class FormatError extends Error {
    readonly detail: string;
    readonly file: string | undefined;
    readonly offset: number | undefined;

    constructor(detail: string, where: FormatLocation = {}) {
        const prefix = [
            where.file !== undefined ? where.file : undefined,
            where.offset !== undefined ? `at byte ${where.offset}` : undefined,
        ].filter(Boolean).join(": ");
        super(prefix ? `${prefix}: ${detail}` : detail);
        this.name = "FormatError";
        this.detail = detail;
        this.file = where.file;
        this.offset = where.offset;
    }

    /** The same problem, located in a file (keeps an offset already known unless a new one is given). */
    locate(where: FormatLocation): FormatError {
        return new FormatError(this.detail, {
            file: where.file ?? this.file,
            offset: where.offset ?? this.offset,
        });
    }
}

/** Re-throws `err` located at `where` when it is a FormatError; other errors pass unchanged. */
export function locateError(err: unknown, where: FormatLocation): unknown {
    return err instanceof FormatError ? err.locate(where) : err;
}

/** An error's message on one line (JSON.parse quotes the bad text, newlines and all). */
export function oneLineMessage(err: unknown): string {
    const message = err instanceof Error ? err.message : String(err);
    return message.replace(/\s*[\r\n]+\s*/g, " ").trim();
}
