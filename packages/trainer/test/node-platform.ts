// vitest setupFiles: what `import '@mor/trainer'` does in Node (the `node` export condition).
import '@mor/engine/node';
