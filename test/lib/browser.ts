// SPDX-License-Identifier: GPL-3.0-or-later
// Debian's Chromium driven by playwright-core. Never downloads a browser: the executable is the
// system one, and a missing /usr/bin/chromium is an error that says which package to install.
import fs from "node:fs";
import path from "node:path";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";

/** Flags for a headless Chromium as root on a machine without GPU or network. */
export const CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
];

/** Folder for screenshots and other things a human may want to look at after a run (gitignored). */
export const ARTIFACTS_DIR = path.resolve(import.meta.dirname, "../../test-artifacts");

export interface TestBrowser {
    browser: Browser;
    context: BrowserContext;
    page: Page;
    close(): Promise<void>;
}

export interface BrowserOptions {
    /** Browser language (Accept-Language and navigator.language), e.g. "en-US". */
    locale?: string;
    viewport?: { width: number; height: number };
}

export async function launchBrowser(options: BrowserOptions = {}): Promise<TestBrowser> {
    if (!fs.existsSync(CHROMIUM))
        throw new Error(`${CHROMIUM} is missing: apt-get install chromium`);
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
    try {
        const context = await browser.newContext({
            locale: options.locale ?? "en-US",
            viewport: options.viewport ?? { width: 1280, height: 800 },
        });
        const page = await context.newPage();
        // Uncaught errors of the page show in the test's output, whatever the test asserts.
        page.on("pageerror", err => console.error(`# page error: ${err.message}`));
        return { browser, context, page, close: () => browser.close() };
    } catch (err) {
        await browser.close();
        throw err;
    }
}

/** Saves a full-page PNG as test-artifacts/<name>.png and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
    fs.mkdirSync(ARTIFACTS_DIR, { recursive: true });
    const file = path.join(ARTIFACTS_DIR, `${name.replace(/[^\w.-]+/g, "_")}.png`);
    await page.screenshot({ path: file, fullPage: true });
    return file;
}
