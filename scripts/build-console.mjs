// Bundles the web console (console/src) into dist/console-assets: one script and one style
// sheet, minified, with every dependency inside (the console works offline, no CDN).
import { build } from 'esbuild';

await build({
  entryPoints: { app: 'console/src/main.tsx' },
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['chrome110', 'firefox115'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  outdir: 'dist/console-assets',
  legalComments: 'none',
  logLevel: 'warning',
});
