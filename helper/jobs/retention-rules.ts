// How many chains of a VM's backup folder are kept. Pure rules without Node imports, so the UI's form checks
// with the very same function before the (root) helper checks again.

/** More chains than anyone keeps: a bigger number is a typo, not a policy. */
export const MAX_KEEP_CHAINS = 1000;

export type KeepChainsProblem = "not-a-number" | "too-small" | "too-big";

/**
 * "Keep the last N chains" as typed ("" or "all": keep all, null), or the reason it is refused. A number
 * keeps at least the newest chain: 0 would remove the chain being written.
 */
export function checkKeepChains(value: string | number | null): { keep: number | null } | { problem: KeepChainsProblem } {
    if (value === null)
        return { keep: null };
    const text = String(value).trim();
    if (text === "" || text === "all")
        return { keep: null };
    if (!/^-?\d+$/.test(text))
        return { problem: "not-a-number" };
    const n = Number(text);
    if (n < 1)
        return { problem: "too-small" };
    if (n > MAX_KEEP_CHAINS)
        return { problem: "too-big" };
    return { keep: n };
}

/** One English sentence for a problem (the helper's error; the UI translates its own). */
export function describeKeepChainsProblem(problem: KeepChainsProblem): string {
    switch (problem) {
    case "not-a-number": return "the number of chains to keep is not a whole number (empty or \"all\": keep all)";
    case "too-small": return "at least the newest chain is kept: the number of chains to keep must be 1 or more";
    case "too-big": return `the number of chains to keep must be at most ${MAX_KEEP_CHAINS} (empty or "all": keep all)`;
    }
}
