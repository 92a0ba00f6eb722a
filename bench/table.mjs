#!/usr/bin/env node
// Prints the summary table of a bench/run.mjs JSON file again: node bench/table.mjs [bench/results/latest.json]
import { readFileSync } from 'node:fs';
import { markdownTable } from './lib/table.mjs';

console.log(markdownTable(JSON.parse(readFileSync(process.argv[2] ?? 'bench/results/latest.json', 'utf8'))));
