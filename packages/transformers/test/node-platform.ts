// vitest setupFiles: what `import '@mor/transformers'` does in Node (the `node` export condition).
import '@mor/engine/node';
