// SPDX-License-Identifier: GPL-3.0-or-later
// Lint for the UI, the helper, the tests, the tools and the bindings' JavaScript.
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import reactHooks from "eslint-plugin-react-hooks";
import globals from "globals";

// The page talks to the helper only through the shared contract in helper/protocol/: pure rules and types that
// run in both places. Anything else under helper/ (engine, libvirt, files) must never be bundled into the page;
// a type-only import of a command's answer is fine (it leaves nothing in the bundle).
const helperContract = ["protocol/[a-z-]+"];

export default tseslint.config(
    {
        ignores: [
            "dist/**", "node_modules/**", "**/node_modules/**", "**/build/**", "debian/**", "test-artifacts/**",
            "po/*.js", "obj-*/**",
        ],
    },
    js.configs.recommended,
    ...tseslint.configs.recommended,
    {
        languageOptions: { globals: { ...globals.node } },
        rules: {
            // Unused arguments named _x document an interface's shape.
            "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none" }],
            "no-constant-condition": ["error", { checkLoops: false }],
            // Validators reject control characters in names and paths on purpose.
            "no-control-regex": "off",
        },
    },
    {
        files: ["**/*.js", "**/*.cjs"],
        rules: { "@typescript-eslint/no-require-imports": "off" },
    },
    {
        files: ["src/**/*.ts", "src/**/*.tsx"],
        languageOptions: { globals: { ...globals.browser } },
        plugins: { "react-hooks": reactHooks },
        rules: {
            // The classic hook rules; the React Compiler's stricter ones assume the compiler, which we do not use.
            "react-hooks/rules-of-hooks": "error",
            "react-hooks/exhaustive-deps": "error",
            // Types may come from anywhere (they vanish in the bundle); code only from the contract.
            "@typescript-eslint/no-restricted-imports": ["error", {
                patterns: [{
                    allowTypeImports: true,
                    regex: `^(\\.\\./)+helper/(?!(${helperContract.join("|")})$)`,
                    message: "The page may import from helper/ only the shared contract (pure rules and types).",
                }],
            }],
        },
    },
    {
        // The stream format is pure: the bytes it parses and builds come from its callers, never from a file,
        // a process or a native binding (those sit in engine/, restore/ and map/). Of the rest of helper/ it may
        // use only the page's contract (protocol/ is purer still): checkpoint names and levels live there once.
        files: ["helper/format/**/*.ts"],
        rules: {
            "@typescript-eslint/no-restricted-imports": ["error", {
                patterns: [{
                    regex: `^(node:)?(fs|fs/promises|child_process|net)$|^(codec-node|fileio-node|libnbd-node)$|^\\.\\./(?!(${helperContract.join("|")})\\.ts$)`,
                    message: "helper/format/ is pure: no I/O, no native bindings, nothing from outside format/ but the contract in protocol/.",
                }],
            }],
        },
    },
    {
        // The page's contract runs in the browser too: nothing from node, no binding, nothing outside protocol/.
        files: ["helper/protocol/**/*.ts"],
        rules: {
            "@typescript-eslint/no-restricted-imports": ["error", {
                patterns: [{
                    regex: "^node:|^(fs|fs/promises|child_process|net|path|os)$|^(codec-node|fileio-node|libnbd-node)$|^\\.\\./",
                    message: "helper/protocol/ is the page's contract: pure rules and types, nothing from outside protocol/.",
                }],
            }],
        },
    },
);
