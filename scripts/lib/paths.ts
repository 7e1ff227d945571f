import { resolve } from 'node:path';

// Both scripts/lib/*.ts (tsx) and dist/scripts/*.js (bundled) sit two folders below the root.
export const ROOT = resolve(__dirname, '..', '..');
export const SIMULATOR_CLI = resolve(ROOT, 'dist', 'simulator', 'cli.js');
export const UPLOT_JS = resolve(ROOT, 'node_modules', 'uplot', 'dist', 'uPlot.iife.min.js');
export const UPLOT_CSS = resolve(ROOT, 'node_modules', 'uplot', 'dist', 'uPlot.min.css');
