// SPDX-License-Identifier: GPL-3.0-or-later
// The environment the job runner starts a CLI with: its own, with the CLI's node options added to
// NODE_OPTIONS (helper/cli/node-options.json; argv stays `node <cli.js> ...`) and without NODE_EXTRA_CA_CERTS,
// as the CLIs' first line starts them (build.mjs): nothing here speaks TLS, and with the variable set node
// parses a whole certificate bundle before any code runs (70-90 ms of each start).

/** The CLI's environment (pure). */
export function cliEnvironment(parent: NodeJS.ProcessEnv, nodeOptions?: string): NodeJS.ProcessEnv {
    const { NODE_EXTRA_CA_CERTS: _unused, ...env } = parent;
    if (nodeOptions)
        env.NODE_OPTIONS = [parent.NODE_OPTIONS, nodeOptions].filter(Boolean).join(" ");
    return env;
}
