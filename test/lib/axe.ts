// SPDX-License-Identifier: GPL-3.0-or-later
// Accessibility check of what the page shows now, with axe-core (pinned in package-lock.json): the tests call
// it on every state they visit and expect no violation (WCAG 2.x A/AA and axe's best practices).
import assert from "node:assert/strict";
import fs from "node:fs";
import { createRequire } from "node:module";
import type { Page } from "playwright-core";
import { screenshot } from "./browser.ts";

const AXE_SOURCE = fs.readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

export interface AxeViolation {
    id: string;
    impact: string | null;
    help: string;
    targets: string[];
}

/** axe-core's violations on the page as it is now. Evaluated through the DevTools protocol: Cockpit's CSP allows no injected script tags. */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
    if (!await page.evaluate(() => "axe" in window))
        await page.evaluate(`${AXE_SOURCE}\n;true`);
    return page.evaluate(async () => {
        // Colours are measured as they are: a button that just got enabled may still be fading in. A transition
        // starts at the next frame after the change that causes it: two frames first, so that it is listed.
        await new Promise(resolve => {
            requestAnimationFrame(() => requestAnimationFrame(resolve));
            setTimeout(resolve, 200);  // a page in the background gets no frames
        });
        await Promise.all(document.getAnimations().filter(a => a.effect?.getTiming().iterations !== Infinity).map(a => a.finished.catch(() => {})));
        const axe = (window as unknown as { axe: { run(ctx: Document, opts: object): Promise<{ violations: { id: string; impact: string | null; help: string; nodes: { target: unknown[] }[] }[] }> } }).axe;
        const result = await axe.run(document, { resultTypes: ["violations"] });
        return result.violations.map(v => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map(n => n.target.map(String).join(" ")) }));
    });
}

/** Fails with every violation listed (rule, impact, elements) when axe finds any. */
export async function assertAccessible(page: Page, state: string): Promise<void> {
    const violations = await axeViolations(page);
    assert.deepEqual(violations.map(v => `${v.id} (${v.impact}): ${v.help} — ${v.targets.slice(0, 5).join(", ")}`), [],
                     `axe-core finds accessibility violations in ${state}`);
}

/** Reloads the page in Cockpit's light and then dark theme, `reopen` bringing back the state to check, and checks both (with a screenshot). */
export async function assertAccessibleInThemes(page: Page, state: string, reopen: () => Promise<void>): Promise<void> {
    for (const style of ["light", "dark"]) {
        await page.evaluate(s => localStorage.setItem("shell:style", s), style);
        await page.reload();
        await reopen();
        console.log(`# ${await screenshot(page, `${state}-${style}`)}`);
        await assertAccessible(page, `${state}-${style}`);
    }
    await page.evaluate(() => localStorage.removeItem("shell:style"));
}
