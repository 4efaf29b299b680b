// tunnels/'s public entry point for code outside the layers (bench/).
export { derivedVtepMac } from './vtep-mac.js';
