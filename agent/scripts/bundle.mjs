// Bundles the daemon (dist/main.js, tsc's output) into one file, dist/bpfleet-agent.mjs, which the launcher runs:
// one module instead of ~500 saves the agent ~3 MB of RSS (docs/platforms.md, "Memory"). Run by `npm run build`.
import { renameSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const agent = join(dirname(fileURLToPath(import.meta.url)), '..');
const outfile = join(agent, 'dist', 'bpfleet-agent.mjs');

// What a device must never carry (docs/design.md): the SDK's CLI, build and signing code.
const FORBIDDEN = [
  /\/sdk\/dist\/(cli|compile|scaffold|registry-client)\//,
  /node_modules\/@sigstore\/sign\//,
  /node_modules\/commander\//,
];

const result = await build({
  entryPoints: [join(agent, 'dist', 'main.js')],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // koffi loads its native module from its own package: it stays in node_modules. @sigstore/sign is imported
  // on demand by the SDK's signing functions, which a device never calls: left out, it is not carried.
  external: ['koffi', '@sigstore/sign'],
  // Error classes name themselves after new.target.name; identifiers stay readable in stack traces.
  keepNames: true,
  minifyWhitespace: true,
  minifySyntax: true,
  // The bundled CommonJS packages call require() for node's modules.
  banner: {
    js: "import { createRequire as __createRequire } from 'node:module';\nconst require = __createRequire(import.meta.url);",
  },
  metafile: true,
  write: false,
  logLevel: 'warning',
});
const inputs = Object.keys(result.metafile.inputs);
const forbidden = inputs.filter((path) => FORBIDDEN.some((re) => re.test(`/${path}`)));
if (forbidden.length > 0) {
  process.stderr.write(
    `bundle ${relative(process.cwd(), outfile)}: pulls in code a device must not carry:\n  ${forbidden.join('\n  ')}\n`,
  );
  process.exit(1);
}
// Written aside then renamed: parallel test processes bundle too, and an agent may be starting from the file.
const temp = `${outfile}.${process.pid}.tmp`;
writeFileSync(temp, result.outputFiles[0].contents);
renameSync(temp, outfile);
