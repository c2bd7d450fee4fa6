export * from './errors.js';
export * from './config.js';
export * from './layer-weights.js';
