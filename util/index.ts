// util/'s public entry point: helpers of no layer, which any folder may use.
export { httpGet, type HttpAddress } from './http-client.js';
