// Rollout planning shared by the CLI and the edge.
export { checkWaves, parseWaves, planWaves, type WavePlan, type WaveStep } from './waves.js';
