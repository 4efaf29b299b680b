import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Builds kube-apiserver from Debian's source once per machine (cached outside the repository).
    globalSetup: ['test/support/real-kube-api/global-setup.ts'],
    // Real-kernel tests build namespaces and start etcd; two cores, so keep them in step.
    fileParallelism: true,
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ['default'],
  },
});
