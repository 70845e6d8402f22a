// SPDX-License-Identifier: GPL-3.0-or-later
// Guest paths in the file browser: joining a folder and a name, and the breadcrumb's steps. Pure.

/** `folder`/`name` as an absolute guest path. */
export function childPath(folder: string, name: string): string {
    return folder === "/" ? `/${name}` : `${folder}/${name}`;
}

/** The steps from the root to `folder`: [{ name: "", path: "/" }, { name: "etc", path: "/etc" }, ...]. */
export function pathSteps(folder: string): { name: string; path: string }[] {
    const steps = [{ name: "", path: "/" }];
    for (const part of folder.split("/").filter(Boolean))
        steps.push({ name: part, path: childPath(steps[steps.length - 1]!.path, part) });
    return steps;
}
