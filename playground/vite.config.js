// Production build of the playground, run by orgraph's build.rs (npm ci + vite build) and
// embedded in the binary. orgraph serves index.html at GET /graphql and the assets at
// GET /graphql/assets/{name}.
//
// Every URL is relative: `base: './'` with the assets under `graphql/assets/`, so the page at
// `<prefix>/graphql` loads `<prefix>/graphql/assets/…` wherever orgraph is mounted (also behind
// a proxy that adds a path prefix). Chunks, workers and fonts are found from the URL of the
// file that refers to them.
import { defineConfig } from 'vite';

export default defineConfig({
  base: './',
  build: {
    outDir: 'dist',
    assetsDir: 'graphql/assets',
    emptyOutDir: true,
    sourcemap: false,
    // Monaco is large; one warning per build helps no one.
    chunkSizeWarningLimit: 4096,
    // No inlined assets: every file is served by orgraph, no data: workers (CSP-friendly).
    assetsInlineLimit: 0,
    rolldownOptions: {
      // framer-motion's "use client" directives mean nothing outside React Server Components.
      onwarn(warning, warn) {
        if (warning.code !== 'MODULE_LEVEL_DIRECTIVE') warn(warning);
      },
    },
  },
  worker: { format: 'es' },
  // No network at build time or run time: nothing here may name a CDN.
});
