// Bundles the extension (and vscode-languageclient) into one CommonJS file: dist/extension.js.
// `--production` minifies and drops the source map; the .vsix ships no node_modules.
import * as esbuild from "esbuild";

const production = process.argv.includes("--production");

await esbuild.build({
  entryPoints: ["src/extension.ts"],
  bundle: true,
  outfile: "dist/extension.js",
  format: "cjs",
  platform: "node",
  target: "node18",
  external: ["vscode"],
  minify: production,
  sourcemap: production ? false : "linked",
  sourcesContent: false,
  logLevel: "warning",
});
