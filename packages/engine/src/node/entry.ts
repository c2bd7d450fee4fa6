// `@mor/engine` under the `node` export condition: the browser entry with the Node platform registered.
import './platform.js';
export * from '../index.js';
