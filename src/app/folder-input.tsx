// SPDX-License-Identifier: GPL-3.0-or-later
// A text field for a host folder that suggests existing folders while typing (Cockpit's file listing, as
// root where the session may): the backup folder field and the folder fields of the restore dialogs.
import { useEffect, useState } from "react";
import { TextInput } from "@patternfly/react-core/dist/esm/components/TextInput/index.js";
import { listSubfolders } from "../lib/folder-list";

/** How long typing pauses before the folder is listed. */
export const PAUSE_MS = 300;

/** The folder whose subfolders to suggest for what is typed: itself after a "/", else its parent. */
export function suggestionBase(typed: string): string | null {
    if (!typed.startsWith("/"))
        return null;
    return typed.endsWith("/") ? typed : typed.slice(0, typed.lastIndexOf("/") + 1);
}

function useSuggestions(typed: string): string[] {
    const [suggestions, setSuggestions] = useState<{ base: string; names: string[] }>({ base: "", names: [] });
    const base = suggestionBase(typed);
    useEffect(() => {
        if (base === null)
            return;
        let current = true;
        const timer = setTimeout(() => {
            listSubfolders(base).then(names => current && setSuggestions({ base, names }));
        }, PAUSE_MS);
        return () => { current = false; clearTimeout(timer) };
    }, [base]);
    return base === suggestions.base ? suggestions.names.map(name => base + name) : [];
}

export interface FolderInputProps {
    /** The input's id; its suggestions list is `<id>-suggestions`. */
    id: string;
    value: string;
    onChange: (folder: string) => void;
    validated: "error" | "warning" | "default";
    isRequired?: boolean;
    isDisabled?: boolean;
    "aria-describedby"?: string;
}

export function FolderInput({ id, value, onChange, validated, isRequired, isDisabled, "aria-describedby": describedBy }: FolderInputProps) {
    const suggestions = useSuggestions(value.trim());
    return (
        <>
            <TextInput id={id} value={value} isRequired={isRequired} isDisabled={isDisabled} list={`${id}-suggestions`}
                       validated={validated} aria-describedby={describedBy} onChange={(_event, folder) => onChange(folder)} />
            <datalist id={`${id}-suggestions`}>
                {suggestions.map(s => <option key={s} value={s} />)}
            </datalist>
        </>
    );
}
