// `@mor/transformers` under the `node` export condition: the browser entry with the Node platform registered,
// so `import { MorModelForCausalLM } from '@mor/transformers'` in Node reads adapter paths and maps files.
import './platform.js';
export * from '../index.js';
