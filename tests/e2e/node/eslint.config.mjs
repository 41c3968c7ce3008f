// ESLint for the browser scripts we ship: the resident widget and the officer console.
// Both are plain ES5-style scripts with no build step, so the rules guard what a bundler would not:
// shadowed names (a local `act` once hid the function `act()`), undefined globals, dead code.
import js from "@eslint/js";
import globals from "globals";

export default [
  js.configs.recommended,
  {
    files: ["widget/src/**/*.js", "api/console/static/**/*.js"],
    languageOptions: {
      ecmaVersion: 2020,
      sourceType: "script",
      globals: { ...globals.browser },
    },
    rules: {
      "no-shadow": ["error", { builtinGlobals: false, hoist: "all" }],
      "no-unused-vars": ["error", { args: "none", caughtErrors: "none" }],
      "no-implicit-globals": "error",
      "no-use-before-define": ["error", { functions: false, variables: true }],
      eqeqeq: ["error", "smart"],
      strict: ["error", "function"],
    },
  },
];
