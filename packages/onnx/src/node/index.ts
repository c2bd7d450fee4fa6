export { readModelFile } from './read-model-file.js';
export { writeModelFile } from './write-model-file.js';
