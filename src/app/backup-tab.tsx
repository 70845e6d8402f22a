// SPDX-License-Identifier: GPL-3.0-or-later
// The Backups tab of a VM's page: settings, "Back up now", the running job's progress (a backup or a
// restore, followed through the watched state file), how the last job ended, the restore points with their
// actions, and the VMs started from them (instant recovery).
import { useEffect, useRef, useState } from "react";
import "./backup-tab.css";
import { Button } from "@patternfly/react-core/dist/esm/components/Button/index.js";
import { Flex, FlexItem } from "@patternfly/react-core/dist/esm/layouts/Flex/index.js";
import { Stack, StackItem } from "@patternfly/react-core/dist/esm/layouts/Stack/index.js";
import { Title } from "@patternfly/react-core/dist/esm/components/Title/index.js";
import cockpit from "../lib/cockpit";
import type { JobState, RestorePoint, SettingsAnswer } from "../backup-types";
import { useBackupSettings, useJobRates, useJobWatch, useRestorePoints } from "./backup-hooks";
import { BackupCancelDialog } from "./backup-cancel-dialog";
import { BackupLastJob } from "./backup-last-job";
import { RestoreDialog } from "./restore-dialog";
import { RestoreLastJob } from "./restore-last-job";
import { BackupNowDialog } from "./backup-now-dialog";
import { BackupPoints } from "./backup-points";
import { PruneDialog } from "./prune-dialog";
import { DeletePointDialog } from "./delete-point-dialog";
import type { PointDeleteRequest } from "./point-delete";
import { pointKey } from "../point-key";
import { BackupProgress } from "./backup-progress";
import { BackupSettingsDialog } from "./backup-settings-dialog";
import { BackupSettingsSummary } from "./backup-settings-summary";
import { BackupError } from "./backup-error";
import { LoadingState } from "./states";
import { useVerify } from "./verify-hooks";
import { VerifyResult } from "./verify-result";
import { JobAnnouncer } from "./job-announcer";
import { BackupHistory } from "./backup-history";
import { BrowseView } from "./browse-view";
import { InstantVms } from "./instant-vms";
import { StartInstantDialog } from "./start-instant-dialog";

const _ = cockpit.gettext;

type Dialog = "settings" | "backup" | "cancel" | "prune" | { restore: string } | { instant: RestorePoint } | { deleteChain: string } | { deletePoint: PointDeleteRequest } | null;

interface BodyProps {
    domain: string;
    settings: SettingsAnswer;
    onSettings: (s: SettingsAnswer) => void;
    vmNames: readonly string[];
    vmStates: Readonly<Record<string, string>>;
}

function BackupsBody({ domain, settings, onSettings, vmNames, vmStates }: BodyProps) {
    const view = useJobWatch(domain, settings.statusFile);
    const job: JobState | null = view.status === "ready" && view.job.state !== "none" ? view.job as JobState : null;
    const running = job?.state === "running" ? job : null;
    const rates = useJobRates(running);
    const [generation, setGeneration] = useState(0);
    const [instantGeneration, setInstantGeneration] = useState(0);
    const points = useRestorePoints(domain, generation);
    const [dialog, setDialog] = useState<Dialog>(null);
    const [browsing, setBrowsing] = useState<RestorePoint | null>(null);
    const [cancelling, setCancelling] = useState<string | null>(null);
    const verify = useVerify(domain);

    // A job that starts or ends (here, elsewhere, or while the page was closed) changes the folder: list it again.
    const lastPhase = useRef<string | null>(null);
    useEffect(() => {
        const phase = job ? `${job.id}:${job.state}` : null;
        if (lastPhase.current !== null && phase !== lastPhase.current && job)
            setGeneration(g => g + 1);
        lastPhase.current = phase;
    }, [job]);

    const pointList = points.state.status === "ready" ? points.state.value : null;
    return (
        <Stack hasGutter id="backups" data-job-state={job?.state ?? "none"}>
            <StackItem>
                <JobAnnouncer job={job} />
                <Flex justifyContent={{ default: "justifyContentSpaceBetween" }} alignItems={{ default: "alignItemsFlexStart" }}>
                    <FlexItem>
                        <BackupSettingsSummary settings={settings} points={pointList} onEdit={() => setDialog("settings")}
                                               editDisabled={running !== null} />
                    </FlexItem>
                    <FlexItem>
                        <Button id="backup-now" variant="primary" onClick={() => setDialog("backup")}
                                isDisabled={running !== null || view.status === "loading"}>
                            {_("Back up now")}
                        </Button>
                    </FlexItem>
                </Flex>
            </StackItem>
            {view.status === "error" && (
                <StackItem>
                    <BackupError id="backup-job-error" title={_("Cannot follow the backup job")} error={view.error} onRetry={view.retry} />
                </StackItem>
            )}
            {running && (
                <StackItem>
                    <BackupProgress job={running} rates={rates} cancelling={cancelling === running.id}
                                    onCancel={() => setDialog("cancel")} />
                </StackItem>
            )}
            {job && job.state !== "running" && (
                <StackItem>{job.kind === "restore" ? <RestoreLastJob job={job} /> : <BackupLastJob job={job} />}</StackItem>
            )}
            <StackItem>
                <Flex justifyContent={{ default: "justifyContentSpaceBetween" }} alignItems={{ default: "alignItemsCenter" }}>
                    <Title headingLevel="h2" size="lg" className="backup-section-title">{_("Restore points")}</Title>
                    {settings.keepChains !== null && settings.keepChains !== undefined && pointList && (pointList.chains ?? []).length > settings.keepChains && (
                        <Button id="prune-now" variant="secondary" onClick={() => setDialog("prune")} isDisabled={running !== null}>
                            {_("Prune now")}
                        </Button>
                    )}
                </Flex>
                {points.state.status === "loading" && <LoadingState title={_("Reading the backup folder")} />}
                {points.state.status === "error" && (
                    <BackupError id="backup-points-error" title={_("Cannot read the backup folder")} error={points.state.error} onRetry={points.reload} />
                )}
                {verify.run && <VerifyResult run={verify.run} onClose={verify.dismiss} />}
                {pointList && <BackupPoints list={pointList} onVerify={p => verify.start(pointKey(p))}
                                            verifyDisabled={verify.run?.status === "running"}
                                            onRestore={p => setDialog({ restore: pointKey(p) })}
                                            onBrowse={setBrowsing}
                                            onStartInstant={p => setDialog({ instant: p })}
                                            restoreDisabled={running !== null || view.status === "loading"}
                                            onDeleteChain={running === null ? chain => setDialog({ deleteChain: chain }) : undefined}
                                            onDeletePoint={running === null ? request => setDialog({ deletePoint: request }) : undefined} />}
            </StackItem>
            <StackItem>
                <InstantVms domain={domain} backupFolder={settings.folder} generation={instantGeneration} vmStates={vmStates} />
            </StackItem>
            <StackItem>
                <BackupHistory domain={domain} generation={generation} />
            </StackItem>

            {dialog === "settings" && (
                <BackupSettingsDialog domain={domain} settings={settings} onClose={() => setDialog(null)}
                                      onSaved={s => { setDialog(null); onSettings(s); setGeneration(g => g + 1) }} />
            )}
            {dialog === "backup" && (
                <BackupNowDialog domain={domain} folder={settings.folder} onClose={() => setDialog(null)}
                                 onStarted={() => setDialog(null)} />
            )}
            {dialog !== null && typeof dialog === "object" && "restore" in dialog && pointList && (
                <RestoreDialog domain={domain} backupFolder={settings.folder} points={pointList.points} point={dialog.restore}
                               vmNames={vmNames} onClose={() => setDialog(null)} onStarted={() => setDialog(null)} />
            )}
            {dialog !== null && typeof dialog === "object" && "instant" in dialog && (
                <StartInstantDialog domain={domain} backupFolder={settings.folder} point={dialog.instant} vmNames={vmNames}
                                    onClose={() => setDialog(null)} onStarted={() => { setDialog(null); setInstantGeneration(g => g + 1) }} />
            )}
            {browsing && <BrowseView domain={domain} point={browsing} onClose={() => setBrowsing(null)} />}
            {dialog === "prune" && settings.keepChains !== null && (
                <PruneDialog domain={domain} request={{ keep: settings.keepChains }} onClose={() => setDialog(null)}
                             onPruned={() => { setDialog(null); setGeneration(g => g + 1) }} />
            )}
            {dialog !== null && typeof dialog === "object" && "deleteChain" in dialog && (
                <PruneDialog domain={domain} request={{ chain: dialog.deleteChain }} onClose={() => setDialog(null)}
                             onPruned={() => { setDialog(null); setGeneration(g => g + 1) }} />
            )}
            {dialog !== null && typeof dialog === "object" && "deletePoint" in dialog && (
                <DeletePointDialog domain={domain} request={dialog.deletePoint} onClose={() => setDialog(null)}
                                   onDeleted={() => { setDialog(null); setGeneration(g => g + 1) }} />
            )}
            {dialog === "cancel" && running && (
                <BackupCancelDialog domain={domain} kind={running.kind} onClose={() => setDialog(null)}
                                    onCancelled={() => { setCancelling(running.id); setDialog(null) }} />
            )}
        </Stack>
    );
}

const NO_VMS: Readonly<Record<string, string>> = {};

export function BackupsTab({ domain, vmNames = [], vmStates = NO_VMS }: { domain: string; vmNames?: readonly string[]; vmStates?: Readonly<Record<string, string>> }) {
    const settings = useBackupSettings(domain);
    if (settings.state.status === "loading")
        return <LoadingState title={_("Loading backup settings")} />;
    if (settings.state.status === "error")
        return <BackupError id="backup-settings-error" title={_("Cannot load the backup settings")} error={settings.state.error} onRetry={settings.reload} />;
    return <BackupsBody domain={domain} settings={settings.state.value} onSettings={settings.set} vmNames={vmNames} vmStates={vmStates} />;
}
