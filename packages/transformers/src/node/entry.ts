// `@mor/transformers` under the `node` export condition: the browser entry with the Node platform registered
// (@mor/engine/node), so `import { MorModelForCausalLM } from '@mor/transformers'` in Node reads adapter paths.
import '@mor/engine/node';
export * from '../index.js';
