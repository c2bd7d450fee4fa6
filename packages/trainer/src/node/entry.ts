// `@mor/trainer` under the `node` export condition: the browser entry with the Node platform registered.
import '@mor/engine/node';
export * from '../index.js';
