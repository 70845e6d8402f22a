// SPDX-License-Identifier: GPL-3.0-or-later
// Small React hooks over cockpit.js state: the page location, admin permission, and the VM list.
import { useCallback, useEffect, useState } from "react";
import cockpit from "../lib/cockpit";
import { HelperError, listVms, watchVms, type VmWatch } from "../helper-client";
import type { DomainSummary } from "../vm-types";

/** cockpit.location.path, kept current across "locationchanged". */
export function useLocationPath(): string[] {
    const [path, setPath] = useState(() => cockpit.location.path);
    useEffect(() => {
        const update = () => setPath(cockpit.location.path);
        cockpit.addEventListener("locationchanged", update);
        return () => cockpit.removeEventListener("locationchanged", update);
    }, []);
    return path;
}

/** Whether the session may act as root: null while Cockpit is still finding out. */
export function useAdminAllowed(): boolean | null {
    const [allowed, setAllowed] = useState<boolean | null>(null);
    useEffect(() => {
        const permission = cockpit.permission({ admin: true });
        const update = () => setAllowed(permission.allowed);
        permission.addEventListener("changed", update);
        update();
        return () => {
            permission.removeEventListener("changed", update);
            permission.close();
        };
    }, []);
    return allowed;
}

export type VmListState =
    | { status: "loading" }
    | { status: "ready"; vms: DomainSummary[] }
    | { status: "error"; error: HelperError };

/** After a lifecycle event, list again this much later: a start sends several events at once. */
const RELIST_DELAY_MS = 150;
/**
 * A watch that ended by itself (libvirtd restarted) is started again 5 s later, then after ever longer
 * pauses, up to a minute, while it keeps failing (e.g. no helper installed).
 */
const REWATCH_DELAY_MS = 5000;
const REWATCH_MAX_DELAY_MS = 60_000;

/**
 * Lists the VMs once `enabled` is true and again whenever a VM starts, stops, appears or goes away (a
 * `watch-vms` helper runs while the list is shown); `reload` lists them again from scratch.
 */
export function useVmList(enabled: boolean): { state: VmListState; reload: () => void } {
    const [state, setState] = useState<VmListState>({ status: "loading" });
    const [generation, setGeneration] = useState(0);

    useEffect(() => {
        if (!enabled)
            return;
        let current = true;
        setState({ status: "loading" });
        listVms().then(
            answer => current && setState({ status: "ready", vms: answer.vms }),
            (error: unknown) => current && setState({
                status: "error",
                error: error instanceof HelperError ? error : new HelperError("unexpected", String(error)),
            }),
        );
        return () => { current = false };
    }, [enabled, generation]);

    useEffect(() => {
        if (!enabled)
            return;
        let stopped = false;
        let watch: VmWatch | null = null;
        let relistTimer: ReturnType<typeof setTimeout> | undefined;
        let rewatchTimer: ReturnType<typeof setTimeout> | undefined;
        let latest = 0;
        // Quietly: the list stays as it is while the new one is asked for, and a failed ask keeps it.
        const relist = () => {
            const mine = ++latest;
            listVms().then(answer => {
                if (!stopped && mine === latest)
                    setState({ status: "ready", vms: answer.vms });
            }, () => {});
        };
        const relistSoon = () => {
            clearTimeout(relistTimer);
            relistTimer = setTimeout(relist, RELIST_DELAY_MS);
        };
        let rewatchDelay = REWATCH_DELAY_MS;
        const startWatch = () => {
            watch = watchVms(() => {
                rewatchDelay = REWATCH_DELAY_MS;
                relistSoon();
            }, () => {
                if (!stopped) {
                    rewatchTimer = setTimeout(() => {
                        startWatch();
                        relistSoon();  // what changed while nobody watched
                    }, rewatchDelay);
                    rewatchDelay = Math.min(rewatchDelay * 2, REWATCH_MAX_DELAY_MS);
                }
            });
        };
        startWatch();
        return () => {
            stopped = true;
            clearTimeout(relistTimer);
            clearTimeout(rewatchTimer);
            watch?.close();
        };
    }, [enabled]);

    const reload = useCallback(() => setGeneration(g => g + 1), []);
    return { state, reload };
}
