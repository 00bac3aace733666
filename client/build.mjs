// Bundles the extension with esbuild into one CommonJS file, dist/extension.js (`vscode` stays
// external: the editor provides it).
//   node client/build.mjs               development build (source maps)
//   node client/build.mjs --production  minified, what the VSIX ships (vscode:prepublish)
//   node client/build.mjs --tests       the unit tests, one file each, into .cache/client-tests/
import { build } from "esbuild";
import { readdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const common = {
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node20",
  logLevel: "warning",
};

async function buildExtension(production) {
  await build({
    ...common,
    entryPoints: [join(root, "client/src/extension.ts")],
    outfile: join(root, "dist/extension.js"),
    external: ["vscode"],
    minify: production,
    sourcemap: !production,
  });
}

async function buildTests() {
  const testDir = join(root, "client/test");
  const outdir = join(root, ".cache/client-tests");
  rmSync(outdir, { recursive: true, force: true });
  const entryPoints = readdirSync(testDir)
    .filter((name) => name.endsWith(".test.ts"))
    .map((name) => join(testDir, name));
  // The modules under test never import `vscode`; marking it external makes an accidental import
  // fail loudly at run time instead of being bundled.
  await build({ ...common, entryPoints, outdir, external: ["vscode"], sourcemap: "inline" });
}

const args = new Set(process.argv.slice(2));
if (args.has("--tests")) {
  await buildTests();
} else {
  await buildExtension(args.has("--production"));
}
