#!/usr/bin/env node
// wren: routes a Kubernetes node's pods from Calico's IPAM blocks.
import { main } from './cli.js';

process.exit(await main(process.argv.slice(2)));
