// SPDX-License-Identifier: GPL-3.0-or-later
// Dark theme that follows the Cockpit shell's choice. The shell stores it in localStorage under
// "shell:style" ("auto", "light" or "dark"); "auto" means the browser's prefers-color-scheme.
// The page shares the shell's origin, so it sees the same storage and its "storage" events.

export const STYLE_KEY = "shell:style";
export const DARK_CLASS = "pf-v6-theme-dark";

/** Whether the page should be dark for a stored style (null/unknown count as "auto"). */
export function wantsDark(style: string | null, prefersDark: boolean): boolean {
    if (style === "dark")
        return true;
    if (style === "light")
        return false;
    return prefersDark;
}

function storedStyle(win: Window): string | null {
    try {
        return win.localStorage.getItem(STYLE_KEY);
    } catch {
        return null; // storage can be disabled; behave like "auto"
    }
}

/** Applies the shell's style to <html> now and whenever it changes; returns a function that stops. */
export function followShellStyle(win: Window = window): () => void {
    const media = win.matchMedia("(prefers-color-scheme: dark)");
    const apply = (style: string | null = storedStyle(win)) =>
        win.document.documentElement.classList.toggle(DARK_CLASS, wantsDark(style, media.matches));

    const onStorage = (event: StorageEvent) => {
        if (event.key === STYLE_KEY || event.key === null)
            apply();
    };
    // The shell also tells its frames directly with a "cockpit-style" event carrying { style }.
    const onShellEvent = (event: Event) => {
        const style = (event as CustomEvent<{ style?: string }>).detail?.style;
        apply(typeof style === "string" ? style : undefined);
    };
    const onMedia = () => apply();

    win.addEventListener("storage", onStorage);
    win.addEventListener("cockpit-style", onShellEvent);
    media.addEventListener("change", onMedia);
    apply();
    return () => {
        win.removeEventListener("storage", onStorage);
        win.removeEventListener("cockpit-style", onShellEvent);
        media.removeEventListener("change", onMedia);
    };
}
