export { buildProgram, main } from './main.js';
export { DEMO_CONFIG, runDemo, type DemoOptions } from './demo.js';
