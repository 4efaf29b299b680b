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

const code = await main(process.argv.slice(2));
// process.exit drops what a pipe has not taken yet (`wren routes | wc -l` lost a third of 4,000
// lines): an empty write's callback comes once everything written before it is out.
await Promise.all([process.stdout, process.stderr].map((stream) => new Promise((resolve) => stream.write('', resolve))));
process.exit(code);
