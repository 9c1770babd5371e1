#!/usr/bin/env node
// The `motlan` command (npm bin, also `npx motlan`): registers tsx so the
// TypeScript CLI in cli/ runs as is, then hands over to cli/main.ts.
import { register } from 'tsx/esm/api';

register();
await import(new URL('../cli/main.ts', import.meta.url).href);
