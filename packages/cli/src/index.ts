export { main } from './main.js';
export { commands } from './commands/index.js';
export type { CommandSpec, OptionSpec } from './command.js';
export { inspectPath, type PathDescription } from './inspect/inspect-path.js';
export type { AdapterDescription } from './inspect/describe-adapter.js';
export type { ModelDescription } from './inspect/describe-model.js';
