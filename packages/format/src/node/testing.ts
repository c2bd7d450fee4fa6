// Test-only entry (`@mor/format/testing`): seams for fault-injection tests, not for use in applications.
export { injectWriteFault, type WriteFault } from './write-fault.js';
