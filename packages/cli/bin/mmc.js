#!/usr/bin/env node
import { main } from '../dist/main.js';

main(process.argv).catch((e) => {
  process.stderr.write(`mmc: ${e?.message ?? e}\n`);
  process.exit(1);
});
