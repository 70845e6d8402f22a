// SPDX-License-Identifier: GPL-3.0-or-later
// The Backups tab's verify of one restore point: runs the helper while the page is open and keeps its
// progress and outcome until the user closes the result or verifies another point.
import { useCallback, useRef, useState } from "react";
import { HelperError, verifyRestorePoint } from "../helper-client";
import type { VerifyAnswer, VerifyProgress } from "../backup-types";

export type VerifyRun =
    | { point: string; status: "running"; progress: VerifyProgress | null }
    | { point: string; status: "done"; answer: VerifyAnswer }
    | { point: string; status: "error"; error: HelperError };

export function useVerify(domain: string): { run: VerifyRun | null; start: (point: string) => void; dismiss: () => void } {
    const [run, setRun] = useState<VerifyRun | null>(null);
    // Only the newest run may update the state (a dismissed or replaced one ends unseen).
    const generation = useRef(0);
    const start = useCallback((point: string) => {
        const mine = ++generation.current;
        setRun({ point, status: "running", progress: null });
        verifyRestorePoint(domain, point, progress => {
            if (generation.current === mine)
                setRun({ point, status: "running", progress });
        }).then(
            answer => generation.current === mine && setRun({ point, status: "done", answer }),
            (error: unknown) => generation.current === mine &&
                setRun({ point, status: "error", error: error instanceof HelperError ? error : new HelperError("unexpected", String(error)) }),
        );
    }, [domain]);
    const dismiss = useCallback(() => {
        generation.current++;
        setRun(null);
    }, []);
    return { run, start, dismiss };
}
