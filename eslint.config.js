// Lint enforces the layering (README.md, "Design"): agent → routing/tunnels → kernel adapter, with
// calico/ (Calico's objects, IPAM, etcd writes) under agent/ and lab/, and util/ of no layer.
// Only kernel/ may spawn processes; routing/ and tunnels/ are pure and may not do I/O. Between
// folders: lab/ never imports agent/, agent/ imports lab/ only from agent/cli/, and bench/ reaches
// every other folder through its index.ts alone.
import tseslint from 'typescript-eslint';

const runsProcesses = { group: ['execa', 'node:child_process', 'child_process'], message: 'Run commands through kernel/exec.ts.' };
const notBench = { group: ['**/bench/**'], message: 'Nothing imports bench/: it measures the others.' };
const restrict = (...patterns) => ({ 'no-restricted-imports': ['error', { patterns }] });
/** bench/ at `depth` folders down (one block per depth below): an import leaving bench/ must name a folder's index.js. */
const entryPointsOnly = (depth) => ({
  regex: `^(\\.\\./){${depth}}(?!.*/index\\.js$)`,
  message: 'bench/ uses other folders through their public entry point (index.ts) only.',
});

const noIo = {
  patterns: [
    { group: ['execa', 'node:child_process', 'child_process'], message: 'Only kernel/ runs processes.' },
    { group: ['node:fs', 'node:fs/promises', 'fs', 'node:net', 'node:http'], message: 'routing/ and tunnels/ are pure: no I/O.' },
    { group: ['**/agent/**', '**/lab/**', '**/calico/**', '**/bench/**'], message: 'Arrows go one way: agent → routing/tunnels → kernel.' },
  ],
};

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': [
        'error',
        { selector: 'TSEnumDeclaration', message: 'Use `as const` objects and unions.' },
        // Every spread argument is a stack slot: on Node 20, push(...list) throws "Maximum call
        // stack size exceeded" above about 125,000 items, and a 100,000-block cluster makes lists
        // that long. Append with for…of, take a minimum with reduce.
        {
          selector: "CallExpression[callee.property.name=/^(push|unshift|splice|min|max|fromCharCode|fromCodePoint)$/] > SpreadElement",
          message: 'A spread argument grows the stack with the list (RangeError above ~125,000 items): use for…of or reduce.',
        },
      ],
    },
  },
  { files: ['routing/**/*.ts', 'tunnels/**/*.ts'], rules: { 'no-restricted-imports': ['error', noIo] } },
  {
    files: ['kernel/**/*.ts'],
    rules: restrict({ group: ['**/agent/**', '**/routing/**', '**/tunnels/**', '**/lab/**', '**/calico/**', '**/bench/**'], message: 'kernel/ is the bottom layer.' }),
  },
  {
    files: ['agent/**/*.ts'],
    ignores: ['agent/cli/**'],
    rules: restrict(runsProcesses, notBench, { group: ['**/lab/**'], message: 'Only agent/cli/ may import lab/.' }),
  },
  { files: ['agent/cli/**/*.ts'], rules: restrict(runsProcesses, notBench) },
  {
    files: ['lab/**/*.ts'],
    rules: restrict(runsProcesses, notBench, { group: ['**/agent/**'], message: 'lab/ never imports agent/: what both need lives in calico/ or util/.' }),
  },
  {
    files: ['calico/**/*.ts'],
    rules: restrict(runsProcesses, { group: ['**/agent/**', '**/lab/**', '**/bench/**'], message: 'calico/ sits under agent/ and lab/: it imports kernel/ values, routing/, tunnels/ and util/ only.' }),
  },
  { files: ['util/**/*.ts'], rules: restrict(runsProcesses, { regex: '^\\.\\./', message: 'util/ imports nothing of the project.' }) },
  { files: ['bench/*.ts'], rules: restrict(runsProcesses, entryPointsOnly(1)) },
  { files: ['bench/*/*.ts'], rules: restrict(runsProcesses, entryPointsOnly(2)) },
);
