#!/usr/bin/env node
// wren: routes a Kubernetes node's pods from Calico's IPAM blocks.
import { main } from './cli.js';

// A reader that went away (`wren … | head`) is not an error worth a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
}

process.exit(await main(process.argv.slice(2)));
