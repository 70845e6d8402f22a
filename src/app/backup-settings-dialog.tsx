// SPDX-License-Identifier: GPL-3.0-or-later
// Dialog to change a VM's backup folder, compression and automatic backups, with inline errors from the
// same checks the helper applies; the helper's own refusal (e.g. a symlink into /etc) is shown in the
// dialog too.
import { useState } from "react";
import { Alert } from "@patternfly/react-core/dist/esm/components/Alert/index.js";
import { Checkbox } from "@patternfly/react-core/dist/esm/components/Checkbox/index.js";
import { Form, FormGroup, FormHelperText, FormSection } from "@patternfly/react-core/dist/esm/components/Form/index.js";
import { FormSelect, FormSelectOption } from "@patternfly/react-core/dist/esm/components/FormSelect/index.js";
import { HelperText, HelperTextItem } from "@patternfly/react-core/dist/esm/components/HelperText/index.js";
import { Modal, ModalBody, ModalHeader } from "@patternfly/react-core/dist/esm/components/Modal/index.js";
import { TextInput } from "@patternfly/react-core/dist/esm/components/TextInput/index.js";
import cockpit from "../lib/cockpit";
import { setSettings } from "../helper-client";
import type { SettingsAnswer } from "../backup-types";
import { SCHEDULE_FREQUENCIES, type ScheduleFrequency, type ScheduleProblem } from "../../helper/protocol/schedule-rules";
import { PrunePreview } from "./prune-preview";
import { BackupFolderField } from "./backup-folder-field";
import {
    hasErrors, newChainFields, pointFields, pointRules, POINT_RULES, randomDelayField, settingsToSave, validateSettingsForm, type PointRule, type SettingsForm,
} from "./backup-forms";
import {
    frequencyName, keepChainsProblemText, keepPointsProblemText, newChainProblemText, scheduleProblemText, weekdayName,
} from "./backup-text";
import { PointsPreview } from "./points-preview";
import { DialogFailure, DialogFooter } from "./dialog-parts";
import { useDialogAction } from "./use-dialog-action";

const _ = cockpit.gettext;

export interface BackupSettingsDialogProps {
    domain: string;
    settings: SettingsAnswer;
    onClose: () => void;
    onSaved: (settings: SettingsAnswer) => void;
}

export function BackupSettingsDialog({ domain, settings, onClose, onSaved }: BackupSettingsDialogProps) {
    const [form, setForm] = useState<SettingsForm>({
        folder: settings.folder, compress: settings.compress, schedule: settings.schedule, randomDelay: randomDelayField(settings.schedule),
        keepChains: settings.keepChains === null || settings.keepChains === undefined ? "" : String(settings.keepChains),
        ...newChainFields(settings.newChain),
        points: pointFields(settings),
    });
    const [submitted, setSubmitted] = useState(false);
    const [folderRefusal, setFolderRefusal] = useState<string | null>(null);
    const errors = validateSettingsForm(form, settings.isDefault ? undefined : settings.folder);
    // What the typed policy would remove from the stored folder now (not for another folder being typed).
    const keepPreview = settingsToSave(form).keepChains;
    const rules = pointRules(form);
    const anyRule = POINT_RULES.some(r => rules[r] !== null);
    const shown = submitted ? errors : {};
    // libvirt's checkpoints belong to the VM: another folder's backups take over the checkpoint names.
    const folderChanged = !settings.isDefault && form.folder.trim() !== "" && form.folder.trim() !== settings.folder && !shown.folder;

    const saving = useDialogAction(() => setSettings(domain, settingsToSave(form)), onSaved);
    const save = () => {
        setSubmitted(true);
        if (hasErrors(errors) || folderRefusal !== null)
            return saving.refused();
        saving.run();
    };

    return (
        <Modal id="backup-settings-dialog" isOpen onClose={saving.busy ? undefined : onClose} variant="small" aria-labelledby="backup-settings-title">
            <ModalHeader title={_("Backup settings")} labelId="backup-settings-title" />
            <ModalBody>
                <DialogFailure id="backup-settings-failure" title={_("The settings were not saved")} failure={saving.failure} />
                <Form id="backup-settings-form" onSubmit={event => { event.preventDefault(); save() }}>
                    <BackupFolderField domain={domain} value={form.folder} onChange={folder => setForm({ ...form, folder })}
                                       error={shown.folder} isInvalid={errors.folder !== undefined} onRefusal={setFolderRefusal} />
                    {folderChanged &&
                        <Alert component="h2" id="backup-settings-folder-change" variant="info" isInline isPlain
                               title={_("Changing the folder starts a new chain of backups")}>
                            {cockpit.format(_("The backups in $0 stay where they are. The next backup goes into the new folder as a full backup. Should backups go into $0 again later, its chain continues only with a full backup."), settings.folder)}
                        </Alert>}
                    <FormGroup fieldId="backup-settings-compress">
                        <Checkbox id="backup-settings-compress" label={_("Compress backups (lz4)")} isChecked={form.compress}
                                  description={_("Smaller files for data that compresses well; a little more CPU time.")}
                                  onChange={(_event, compress) => setForm({ ...form, compress })} />
                    </FormGroup>
                    <ScheduleFields form={form} setForm={setForm} problem={shown.schedule} />
                    <FormGroup label={_("Start a new chain")} fieldId="backup-settings-new-chain">
                        <FormSelect id="backup-settings-new-chain" value={form.newChain ?? "never"}
                                    onChange={(_event, value) => setForm({ ...form, newChain: value as SettingsForm["newChain"] })}>
                            <FormSelectOption value="never" label={_("Never")} />
                            <FormSelectOption value="week" label={_("Every week")} />
                            <FormSelectOption value="month" label={_("Every month")} />
                            <FormSelectOption value="backups" label={_("Every N backups")} />
                        </FormSelect>
                        {form.newChain === "backups" && (
                            <TextInput id="backup-settings-new-chain-count" value={form.newChainCount ?? ""} inputMode="numeric"
                                       aria-label={_("Backups per chain")} validated={shown.newChain ? "error" : "default"}
                                       onChange={(_event, newChainCount) => setForm({ ...form, newChainCount })} />
                        )}
                        <FormHelperText>
                            <HelperText>
                                {shown.newChain
                                    ? <HelperTextItem id="backup-settings-new-chain-error" variant="error">{newChainProblemText(shown.newChain)}</HelperTextItem>
                                    : <HelperTextItem>{_("Automatic backups start the new chain with a full backup.")}</HelperTextItem>}
                            </HelperText>
                        </FormHelperText>
                    </FormGroup>
                    <FormGroup label={_("Keep the last N chains")} fieldId="backup-settings-keep-chains">
                        <TextInput id="backup-settings-keep-chains" value={form.keepChains ?? ""} inputMode="numeric"
                                   validated={shown.keepChains ? "error" : "default"}
                                   onChange={(_event, keepChains) => setForm({ ...form, keepChains })} />
                        <FormHelperText>
                            <HelperText>
                                {shown.keepChains
                                    ? <HelperTextItem id="backup-settings-keep-chains-error" variant="error">{keepChainsProblemText(shown.keepChains)}</HelperTextItem>
                                    : <HelperTextItem>{_("Older chains are removed after each automatic backup. Empty: keep all.")}</HelperTextItem>}
                                {!shown.keepChains && !settings.isDefault && form.folder.trim() === settings.folder && keepPreview !== null &&
                                    <PrunePreview domain={domain} keep={keepPreview} />}
                            </HelperText>
                        </FormHelperText>
                    </FormGroup>
                    <FormGroup label={_("Keep restore points of each chain")} fieldId="backup-settings-keep-points" role="group">
                        <div className="backup-settings-point-rules">
                            {POINT_RULES.map(rule => (
                                <div key={rule}>
                                    <label className="backup-settings-point-rule-label" htmlFor={`backup-settings-${ruleId(rule)}`}>{ruleLabel(rule)}</label>
                                    <TextInput id={`backup-settings-${ruleId(rule)}`} value={form.points?.[rule] ?? ""} inputMode="numeric"
                                               validated={shown.points?.[rule] ? "error" : "default"}
                                               onChange={(_event, value) => setForm({ ...form, points: { ...form.points, [rule]: value } })} />
                                </div>
                            ))}
                        </div>
                        <FormHelperText>
                            <HelperText>
                                {shown.points
                                    ? <HelperTextItem id="backup-settings-keep-points-error" variant="error">
                                        {keepPointsProblemText(Object.values(shown.points).find(p => p !== undefined)!)}
                                    </HelperTextItem>
                                    : <HelperTextItem>
                                        {_("The last N points, and the newest point of each of the last N days, weeks and months. Older points are merged away after each automatic backup. Empty: no such rule.")}
                                    </HelperTextItem>}
                                {!shown.points && !validateSettingsForm(form).points && !settings.isDefault && form.folder.trim() === settings.folder && anyRule &&
                                    <PointsPreview domain={domain} rules={rules} />}
                            </HelperText>
                        </FormHelperText>
                    </FormGroup>
                </Form>
            </ModalBody>
            <DialogFooter action={saving} onClose={onClose} submit={{ id: "backup-settings-save", label: _("Save"), onClick: save }} />
        </Modal>
    );
}

/** The field of a points rule: keep-points, keep-daily, ... */
function ruleId(rule: PointRule): string {
    return rule.replace(/[A-Z]/g, c => `-${c.toLowerCase()}`);
}

function ruleLabel(rule: PointRule): string {
    switch (rule) {
    case "keepPoints": return _("Last N points");
    case "keepDaily": return _("Daily");
    case "keepWeekly": return _("Weekly");
    case "keepMonthly": return _("Monthly");
    }
}

const WEEKDAYS = [0, 1, 2, 3, 4, 5, 6];

interface ScheduleFieldsProps {
    form: SettingsForm;
    setForm: (form: SettingsForm) => void;
    /** Why the schedule is refused (given only after Save was pressed). */
    problem: ScheduleProblem | undefined;
}

/** "Automatic backups": how often, on which day (weekly), at what time of the host. */
function ScheduleFields({ form, setForm, problem }: ScheduleFieldsProps) {
    const schedule = form.schedule;
    const timeError = problem === "bad-time";
    const delayError = problem === "bad-random-delay";
    // Frequency and weekday come from selects; a refusal of them is shown under the first one.
    const otherError = problem && !timeError && !delayError ? scheduleProblemText(problem) : null;
    const change = (part: Partial<SettingsForm["schedule"]>) => setForm({ ...form, schedule: { ...schedule, ...part } });
    return (
        <FormSection title={_("Automatic backups")} titleElement="h2">
            <FormGroup label={_("Frequency")} fieldId="backup-settings-schedule">
                <FormSelect id="backup-settings-schedule" value={schedule.frequency} validated={otherError ? "error" : "default"}
                            onChange={(_event, value) => change({ frequency: value as ScheduleFrequency })}>
                    {SCHEDULE_FREQUENCIES.map(f => <FormSelectOption key={f} value={f} label={frequencyName(f)} />)}
                </FormSelect>
                {otherError && (
                    <FormHelperText>
                        <HelperText>
                            <HelperTextItem id="backup-settings-schedule-error" variant="error">{otherError}</HelperTextItem>
                        </HelperText>
                    </FormHelperText>
                )}
            </FormGroup>
            {schedule.frequency === "weekly" && (
                <FormGroup label={_("Day")} fieldId="backup-settings-weekday">
                    <FormSelect id="backup-settings-weekday" value={String(schedule.weekday)}
                                onChange={(_event, value) => change({ weekday: Number(value) })}>
                        {WEEKDAYS.map(d => <FormSelectOption key={d} value={String(d)} label={weekdayName(d)} />)}
                    </FormSelect>
                </FormGroup>
            )}
            {schedule.frequency !== "off" && (
                <FormGroup label={_("Time")} fieldId="backup-settings-time">
                    <TextInput id="backup-settings-time" type="text" placeholder="hh:mm" value={schedule.time}
                               validated={timeError ? "error" : "default"}
                               onChange={(_event, time) => change({ time })} />
                    <FormHelperText>
                        <HelperText>
                            {timeError
                                ? <HelperTextItem id="backup-settings-time-error" variant="error">{scheduleProblemText("bad-time")}</HelperTextItem>
                                : <HelperTextItem>
                                    {_("Backups start at this local time of the host, at level Automatic: a full backup into an empty folder, an incremental one otherwise.")}
                                </HelperTextItem>}
                        </HelperText>
                    </FormHelperText>
                </FormGroup>
            )}
            {schedule.frequency !== "off" && (
                <FormGroup label={_("Random delay (minutes)")} fieldId="backup-settings-random-delay">
                    <TextInput id="backup-settings-random-delay" type="text" inputMode="numeric" placeholder="0" value={form.randomDelay ?? ""}
                               validated={delayError ? "error" : "default"}
                               onChange={(_event, randomDelay) => setForm({ ...form, randomDelay })} />
                    <FormHelperText>
                        <HelperText>
                            {delayError
                                ? <HelperTextItem id="backup-settings-random-delay-error" variant="error">{scheduleProblemText("bad-random-delay")}</HelperTextItem>
                                : <HelperTextItem>
                                    {_("Each backup starts up to this many minutes after its time, chosen at random, so that many machines do not start at once. Empty: at the time.")}
                                </HelperTextItem>}
                        </HelperText>
                    </FormHelperText>
                </FormGroup>
            )}
        </FormSection>
    );
}
