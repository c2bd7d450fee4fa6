export { exportPeftLora } from './export-peft-lora.js';
