// SPDX-License-Identifier: GPL-3.0-or-later
// Entry point of the Cockpit page. index.html loads cockpit.js and the translations first.
// Base styles (tokens, fonts, themes); each react-core component brings its own CSS.
import "@patternfly/patternfly/patternfly-base.css";
import "./index.css";
import { createRoot } from "react-dom/client";
import { App } from "./app/App";
import cockpit from "./lib/cockpit";
import { followShellStyle } from "./lib/theme";

followShellStyle();

// The script runs from <head> like Cockpit's own pages, so the body is not there yet.
document.addEventListener("DOMContentLoaded", () => {
    document.documentElement.lang = cockpit.language.replace("_", "-");
    document.title = cockpit.gettext("Virtual machine backups");
    createRoot(document.getElementById("app")!).render(<App />);
});
