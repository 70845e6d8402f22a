// SPDX-License-Identifier: GPL-3.0-or-later
// What every dialog's submit does: run the helper call, be busy while it runs (the button loads, the dialog
// cannot be closed under it), show why it failed inline (the helper's message), and hand a success to the
// caller, which closes the dialog or shows the result. Checks of the form come before run(); when they fail,
// refused() drops the last call's failure, which was about values the form no longer holds.
import { useRef, useState } from "react";
import { errorDetail } from "../helper-client";

export interface DialogAction<A extends unknown[] = []> {
    /** The call runs. */
    busy: boolean;
    /** Why the last call failed, as the helper said it; null before and after a success. */
    failure: string | null;
    /** Starts the call (with what the form checked); ignored while one runs. */
    run: (...args: A) => void;
    /** The form's own checks refused a submit: the inline errors say what is wrong now, not an older failure. */
    refused: () => void;
}

/** `action` is the helper call; `onDone` gets its answer (close, or show it). */
export function useDialogAction<A extends unknown[], T>(action: (...args: A) => Promise<T>, onDone: (answer: T) => void): DialogAction<A> {
    const [busy, setBusy] = useState(false);
    const [failure, setFailure] = useState<string | null>(null);
    // A double click must not start the call twice (the state updates only with the next render).
    const running = useRef(false);
    const run = (...args: A) => {
        if (running.current)
            return;
        running.current = true;
        setBusy(true);
        setFailure(null);
        action(...args).then(answer => {
            running.current = false;
            setBusy(false);
            onDone(answer);
        }, (error: unknown) => {
            running.current = false;
            setBusy(false);
            setFailure(errorDetail(error));
        });
    };
    return { busy, failure, run, refused: () => setFailure(null) };
}
