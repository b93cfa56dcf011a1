// Public API of @bpfleet/agent (bpfleet-agent): the simulated-device pieces, for load tests and e2e.
export { MemoryLoader } from './simulate/memory-loader.js';
export {
  deviceConfig,
  type Simulation,
  type SimulationOptions,
  simulationOptions,
  startSimulation,
} from './simulate/run-simulation.js';
// Test support for the suites above the agent (e2e): the agent's test programs built with clang.
export { arch as testObjectArch, compileTestObject, libraryProgram } from './testing/kernel-fixtures.js';
