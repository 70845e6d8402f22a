// Small React hooks over cockpit.js state: the page location, admin permission, and the VM list.
import { useCallback, useEffect, useState } from "react";
import cockpit from "../lib/cockpit";
import { HelperError, listVms } from "../helper-client";
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

/** Lists the VMs once `enabled` is true; `reload` lists them again. */
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

    const reload = useCallback(() => setGeneration(g => g + 1), []);
    return { state, reload };
}
