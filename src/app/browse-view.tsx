// SPDX-License-Identifier: GPL-3.0-or-later
// "Browse files" of a restore point: one disk of the point mapped and its file systems mounted read-only by
// the helper (a browse session), a folder table with a breadcrumb, downloads of files and of folders (as
// tar) through Cockpit to the user's browser, and "Restore to host…" of a file or folder into a host folder. Closing the view or leaving the page closes the session (its
// holder process ends with the page's channel); the session's idle end covers the rest.
import { useEffect, useState } from "react";
import { Alert } from "@patternfly/react-core/dist/esm/components/Alert/index.js";
import { Breadcrumb, BreadcrumbItem } from "@patternfly/react-core/dist/esm/components/Breadcrumb/index.js";
import { Button } from "@patternfly/react-core/dist/esm/components/Button/index.js";
import { Flex } from "@patternfly/react-core/dist/esm/layouts/Flex/index.js";
import { Form, FormGroup } from "@patternfly/react-core/dist/esm/components/Form/index.js";
import { FormSelect, FormSelectOption } from "@patternfly/react-core/dist/esm/components/FormSelect/index.js";
import { Modal, ModalBody, ModalFooter, ModalHeader } from "@patternfly/react-core/dist/esm/components/Modal/index.js";
import { Table, Tbody, Td, Th, Thead, Tr } from "@patternfly/react-table/dist/esm/components/Table/index.js";
import cockpit from "../lib/cockpit";
import type { RestorePoint } from "../backup-types";
import type { BrowseListing, BrowseOpened, BrowseVolume } from "../browse-answer";
import { browseClose, browseDownloadUrl, browseHold, browseList, browsePoint, errorDetail, type BrowseHold } from "../helper-client";
import { pointKey } from "../point-key";
import { bytes, formatTime } from "./backup-text";
import { childPath, pathSteps } from "./browse-path";
import { LoadingState } from "./states";
import { BrowseRestoreDialog } from "./browse-restore-dialog";

const _ = cockpit.gettext;

/** A session the page forgot (closed tab, lost connection) ends after this long without use. */
const IDLE_SECONDS = 900;

type Loaded<T> = { status: "loading" } | { status: "error"; error: string } | { status: "ok"; value: T };

export interface BrowseViewProps {
    domain: string;
    point: RestorePoint;
    onClose: () => void;
}

function volumeName(v: BrowseVolume): string {
    const what = [v.type, v.label].filter(Boolean).join(", ");
    const name = v.id === "disk" ? _("Whole disk") : cockpit.format(_("Partition $0"), v.id.slice(1));
    return what ? cockpit.format(_("$0 ($1)"), name, what) : name;
}

/**
 * Opens a session on `disk` for as long as the view shows it: a holder process keeps it open and closes it
 * when the view leaves it or the page goes away (the bridge ends the holder).
 */
function useSession(domain: string, point: RestorePoint, disk: string): Loaded<BrowseOpened> {
    const [state, setState] = useState<Loaded<BrowseOpened>>({ status: "loading" });
    useEffect(() => {
        let gone = false;
        let hold: BrowseHold | null = null;
        setState({ status: "loading" });
        browsePoint(domain, pointKey(point), disk, IDLE_SECONDS).then(opened => {
            if (gone) {
                void browseClose(opened.session).catch(() => undefined);
                return;
            }
            hold = browseHold(opened.session);
            setState({ status: "ok", value: opened });
        }, (e: unknown) => {
            if (!gone)
                setState({ status: "error", error: errorDetail(e) });
        });
        return () => {
            gone = true;
            hold?.release();
        };
    }, [domain, point, disk]);
    return state;
}

function useListing(session: string | null, volume: string | null, path: string): Loaded<BrowseListing> | null {
    const [state, setState] = useState<Loaded<BrowseListing>>({ status: "loading" });
    useEffect(() => {
        if (!session || !volume)
            return;
        let gone = false;
        setState({ status: "loading" });
        browseList(session, volume, path).then(value => {
            if (!gone)
                setState({ status: "ok", value });
        }, (e: unknown) => {
            if (!gone)
                setState({ status: "error", error: errorDetail(e) });
        });
        return () => { gone = true };
    }, [session, volume, path]);
    return session && volume ? state : null;
}

export function BrowseView({ domain, point, onClose }: BrowseViewProps) {
    const [disk, setDisk] = useState(point.disks[0]?.dev ?? "");
    const session = useSession(domain, point, disk);
    const opened = session.status === "ok" ? session.value : null;
    const mounted = opened?.volumes.filter(v => v.mounted) ?? [];
    const [volume, setVolume] = useState<string | null>(null);
    const shownVolume = mounted.find(v => v.id === volume)?.id ?? mounted[0]?.id ?? null;
    const [path, setPath] = useState("/");
    const [restoring, setRestoring] = useState<{ path: string; name: string } | null>(null);
    const listing = useListing(opened?.session ?? null, shownVolume, path);

    const changeDisk = (dev: string) => {
        setDisk(dev);
        setVolume(null);
        setPath("/");
    };
    const changeVolume = (id: string) => {
        setVolume(id);
        setPath("/");
    };
    const download = (p: string, what: "file" | "tar", name: string) =>
        browseDownloadUrl(opened!.session, shownVolume!, p, what, what === "tar" ? `${name}.tar` : name);
    const shownPath = listing?.status === "ok" ? listing.value.path : path;
    const folderName = shownPath === "/" ? `${opened?.dev ?? disk}-${shownVolume ?? ""}` : shownPath.split("/").pop()!;

    return (
        // Escape closes the restore dialog on top of it, not this view as well.
        <Modal id="browse-view" isOpen onClose={onClose} onEscapePress={() => restoring === null && onClose()} variant="large"
               aria-labelledby="browse-view-title">
            <ModalHeader title={cockpit.format(_("Files of restore point $0"), pointKey(point))} labelId="browse-view-title"
                         description={_("Read-only: the backup is not changed.")} />
            <ModalBody>
                <Form isHorizontal onSubmit={e => e.preventDefault()}>
                    {point.disks.length > 1 && (
                        <FormGroup label={_("Disk")} fieldId="browse-disk">
                            <FormSelect id="browse-disk" value={disk} onChange={(_e, v) => changeDisk(v)}>
                                {point.disks.map(d => <FormSelectOption key={d.dev} value={d.dev} label={d.dev} />)}
                            </FormSelect>
                        </FormGroup>
                    )}
                    {mounted.length > 1 && (
                        <FormGroup label={_("File system")} fieldId="browse-volume">
                            <FormSelect id="browse-volume" value={shownVolume ?? ""} onChange={(_e, v) => changeVolume(v)}>
                                {mounted.map(v => <FormSelectOption key={v.id} value={v.id} label={volumeName(v)} />)}
                            </FormSelect>
                        </FormGroup>
                    )}
                </Form>
                {session.status === "loading" && <LoadingState title={_("Opening the restore point")} />}
                {session.status === "error" && (
                    <Alert component="h2" id="browse-error" variant="danger" isInline title={_("Cannot open the restore point")}>{session.error}</Alert>
                )}
                {opened && opened.volumes.filter(v => !v.mounted).map(v => (
                    <Alert key={v.id} component="h2" className="browse-unmounted" variant="info" isInline isPlain
                           title={cockpit.format(_("$0 cannot be browsed"), volumeName(v))}>{v.reason}</Alert>
                ))}
                {opened && mounted.length === 0 && (
                    <Alert component="h2" id="browse-no-files" variant="warning" isInline title={_("No file system of this disk can be browsed")} />
                )}
                {opened && shownVolume && (
                    <Flex justifyContent={{ default: "justifyContentSpaceBetween" }} alignItems={{ default: "alignItemsCenter" }} className="browse-toolbar">
                        <Breadcrumb id="browse-breadcrumb" aria-label={_("Folder")}>
                            {pathSteps(shownPath).map((step, i, all) => (
                                <BreadcrumbItem key={step.path} isActive={i === all.length - 1}
                                                {...(i < all.length - 1 ? { to: "#", onClick: (e: React.MouseEvent) => { e.preventDefault(); setPath(step.path) } } : {})}>
                                    {step.name || _("Top folder")}
                                </BreadcrumbItem>
                            ))}
                        </Breadcrumb>
                        <Button id="browse-download-folder" variant="secondary" component="a"
                                href={download(shownPath, "tar", folderName)} download={`${folderName}.tar`}>
                            {_("Download folder as tar")}
                        </Button>
                    </Flex>
                )}
                {listing?.status === "loading" && <LoadingState title={_("Reading the folder")} />}
                {listing?.status === "error" && (
                    <Alert component="h2" id="browse-list-error" variant="danger" isInline title={_("Cannot read the folder")}>{listing.error}</Alert>
                )}
                {listing?.status === "ok" && (
                    <Table id="browse-files" aria-label={_("Files")} variant="compact">
                        <Thead>
                            <Tr>
                                <Th>{_("Name")}</Th>
                                <Th>{_("Size")}</Th>
                                <Th>{_("Modified")}</Th>
                                <Th screenReaderText={_("Actions")} />
                            </Tr>
                        </Thead>
                        <Tbody>
                            {listing.value.entries.length === 0 && (
                                <Tr><Td colSpan={4} id="browse-empty">{_("This folder is empty.")}</Td></Tr>
                            )}
                            {listing.value.entries.map(entry => {
                                const p = childPath(listing.value.path, entry.name);
                                return (
                                    <Tr key={entry.name} data-name={entry.name} data-type={entry.type}>
                                        <Td dataLabel={_("Name")} className="browse-name">
                                            {entry.type === "folder"
                                                ? <Button variant="link" isInline onClick={() => setPath(p)}>{entry.name}</Button>
                                                : entry.type === "symlink" ? cockpit.format(_("$0 → $1"), entry.name, entry.target ?? "") : entry.name}
                                        </Td>
                                        <Td dataLabel={_("Size")} className="browse-size">{entry.type === "file" ? bytes(entry.size) : ""}</Td>
                                        <Td dataLabel={_("Modified")} className="browse-mtime">{formatTime(entry.mtime * 1000)}</Td>
                                        <Td isActionCell>
                                            {(entry.type === "file" || entry.type === "folder") && (
                                                <Flex spaceItems={{ default: "spaceItemsMd" }} flexWrap={{ default: "nowrap" }}>
                                                    <Button variant="link" isInline component="a" className="browse-download"
                                                            href={download(p, entry.type === "file" ? "file" : "tar", entry.name)}
                                                            download={entry.type === "file" ? entry.name : `${entry.name}.tar`}
                                                            aria-label={cockpit.format(_("Download $0"), entry.name)}>
                                                        {_("Download")}
                                                    </Button>
                                                    <Button variant="link" isInline className="browse-restore"
                                                            onClick={() => setRestoring({ path: p, name: entry.name })}
                                                            aria-label={cockpit.format(_("Restore to host: $0"), entry.name)}>
                                                        {_("Restore to host…")}
                                                    </Button>
                                                </Flex>
                                            )}
                                        </Td>
                                    </Tr>
                                );
                            })}
                        </Tbody>
                    </Table>
                )}
            </ModalBody>
            <ModalFooter>
                <Button id="browse-close" variant="primary" onClick={onClose}>{_("Close")}</Button>
            </ModalFooter>
            {restoring && opened && shownVolume && (
                <BrowseRestoreDialog session={opened.session} volume={shownVolume} path={restoring.path} name={restoring.name}
                                     onClose={() => setRestoring(null)} />
            )}
        </Modal>
    );
}
