// vitest setupFiles: what `import '@mor/engine'` does in Node (the `node` export condition).
import '../src/node/platform.js';
