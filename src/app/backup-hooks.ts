// SPDX-License-Identifier: GPL-3.0-or-later
// React hooks of the Backups tab: the VM's settings, its job as the watched state file says, the
// throughput samples of a running job, and the restore points.
import { useCallback, useEffect, useRef, useState } from "react";
import cockpit from "../lib/cockpit";
import { HelperError, getSettings, jobHistory, jobStatus, listRestorePoints } from "../helper-client";
import { parseJobStatus } from "../helper-answer";
import type { HistoryAnswer, JobState, NoJob, RestorePointList, SettingsAnswer } from "../backup-types";
import { addSample, overall, secondsLeft, throughput, type Sample } from "./backup-rate";

export type Loadable<T> =
    | { status: "loading" }
    | { status: "ready"; value: T }
    | { status: "error"; error: HelperError };

function asHelperError(error: unknown): HelperError {
    return error instanceof HelperError ? error : new HelperError("unexpected", String(error));
}

/** Runs `load` when `key` changes or `reload` is called; keeps the last value while reloading. */
export function useLoad<T>(load: () => Promise<T>, key: string): { state: Loadable<T>; reload: () => void; set: (value: T) => void } {
    const [state, setState] = useState<Loadable<T>>({ status: "loading" });
    const [generation, setGeneration] = useState(0);
    useEffect(() => {
        let current = true;
        load().then(
            value => current && setState({ status: "ready", value }),
            (error: unknown) => current && setState({ status: "error", error: asHelperError(error) }),
        );
        return () => { current = false };
        // `load` is a new closure each render; `key` says when what it loads changes.
        // eslint-disable-next-line react-hooks/exhaustive-deps
    }, [key, generation]);
    const reload = useCallback(() => setGeneration(g => g + 1), []);
    const set = useCallback((value: T) => setState({ status: "ready", value }), []);
    return { state, reload, set };
}

export function useBackupSettings(domain: string) {
    return useLoad<SettingsAnswer>(() => getSettings(domain), domain);
}

export function useRestorePoints(domain: string, generation: number) {
    return useLoad<RestorePointList>(() => listRestorePoints(domain), `${domain}\n${generation}`);
}

type JobViewState =
    | { status: "loading" }
    | { status: "ready"; job: JobState | NoJob }
    | { status: "error"; error: HelperError };

export type JobView = JobViewState & { retry: () => void };

/**
 * The VM's job, from the state file: read once through the helper (which also settles a job whose
 * runner died), then followed with cockpit.file().watch() — the runner rewrites the file as the job
 * goes, and the page never polls.
 */
export function useJobWatch(domain: string, statusFile: string | null): JobView {
    const [view, setView] = useState<JobViewState>({ status: "loading" });
    const [generation, setGeneration] = useState(0);
    const retry = useCallback(() => setGeneration(g => g + 1), []);
    useEffect(() => {
        if (!statusFile)
            return;
        let current = true;
        let watch: { remove(): void } | undefined;
        const file = cockpit.file(statusFile, { superuser: "require" });
        jobStatus(domain).then(
            job => current && setView({ status: "ready", job }),
            (error: unknown) => current && setView({ status: "error", error: asHelperError(error) }),
        ).finally(() => {
            if (!current)
                return;
            // Cockpit 287 joins a change into a read already under way, so the last change of a quick job
            // could be missed. The watch therefore only signals changes (read: false) and the hook reads
            // again until it has read the content of the newest change it was told about.
            let noticed: string | null = null;
            let seen: string | null = null;
            let reading = false;
            let tries = 0;
            const readLatest = () => {
                if (reading || !current)
                    return;
                reading = true;
                file.read().then(() => {}, () => {}).finally(() => {
                    reading = false;
                    if (current && noticed !== seen && ++tries < 10)
                        readLatest();
                });
            };
            watch = file.watch((content, tag, error) => {
                if (!current)
                    return;
                if (error) {
                    setView({ status: "error", error: new HelperError("failed", cockpit.message(error as { problem?: string; message?: string })) });
                    return;
                }
                if (content === null && tag !== "-" && tag !== null) {
                    // A change notice; the read's content comes back through this callback.
                    noticed = tag;
                    tries = 0;
                    readLatest();
                    return;
                }
                seen = tag;
                try {
                    setView({ status: "ready", job: content === null ? { state: "none" } : parseJobStatus(content) });
                } catch (err) {
                    setView({ status: "error", error: asHelperError(err) });
                }
            }, { read: false });
        });
        return () => {
            current = false;
            watch?.remove();
            file.close();
        };
    }, [domain, statusFile, generation]);
    return { ...view, retry };
}

export interface Rate {
    /** Bytes per second; null until known. */
    rate: number | null;
    /** Seconds left; null until known. */
    eta: number | null;
}

export interface JobRates {
    overall: Rate;
    disks: Record<string, Rate>;
}

/** Throughput and time left per disk and overall, from the successive states of a running job. */
export function useJobRates(job: JobState | null): JobRates {
    const samples = useRef<{ id: string; series: Map<string, Sample[]> }>({ id: "", series: new Map() });
    if (!job)
        return { overall: { rate: null, eta: null }, disks: {} };
    if (samples.current.id !== job.id)
        samples.current = { id: job.id, series: new Map() };
    const series = samples.current.series;
    const rateOf = (key: string, done: number, total: number, started: number | undefined): Rate => {
        // The first sample is the start (nothing done yet) so that one state already gives a rate.
        if (!series.has(key) && started === undefined)
            return { rate: null, eta: null };  // not copying yet: the setup time is no part of the rate
        let list = series.get(key) ?? [{ at: started!, done: 0 }];
        list = addSample(list, { at: job.updatedAt, done });
        series.set(key, list);
        const rate = throughput(list);
        return { rate, eta: secondsLeft(done, total, rate) };
    };
    const disks: Record<string, Rate> = {};
    for (const d of job.disks)
        disks[d.dev] = rateOf(`disk:${d.dev}`, d.done, d.total, d.startedAt);
    const firstDisk = Math.min(...job.disks.map(d => d.startedAt ?? Infinity));
    const sum = overall(job.disks);
    return { overall: rateOf("overall", sum.done, sum.total, Number.isFinite(firstDisk) ? firstDisk : undefined), disks };
}

/** The VM's job history, read again when `generation` changes (a job started or ended). */
export function useJobHistory(domain: string, generation: number) {
    return useLoad<HistoryAnswer>(() => jobHistory(domain), `${domain}\n${generation}`);
}
