// kernel/'s public entry point for code outside the layers (bench/): running commands, validated
// values, the adapter's plan and batches, and BIRD.
export { commandExists, run, runOk, spawn, type Spawned } from './exec.js';
export { ipv4ToNumber, nthAddress, type AsNumber, type Cidr, type IfaceName, type IpAddr } from './values.js';
export { kernelOrder } from './batches.js';
export { IpKernel } from './kernel.js';
export { renderOp, type Op, type Phase } from './plan.js';
export { MONITOR_RCVBUF } from './monitor.js';
export { BirdDaemon, birdPaths, type BirdPaths } from './bird/bird-daemon.js';
export { parseBgpProtocols, type BgpSessionState } from './bird/protocols.js';
