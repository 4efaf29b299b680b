// Lint enforces the layering (DEVELOPERS.md): agent → routing/tunnels → kernel adapter.
// Only kernel/ may spawn processes; routing/ and tunnels/ are pure and may not do I/O.
import tseslint from 'typescript-eslint';

const noIo = {
  patterns: [
    { group: ['execa', 'node:child_process', 'child_process'], message: 'Only kernel/ runs processes.' },
    { group: ['node:fs', 'node:fs/promises', 'fs', 'node:net', 'node:http'], message: 'routing/ and tunnels/ are pure: no I/O.' },
    { group: ['**/agent/**', '**/lab/**'], message: 'Arrows go one way: agent → routing/tunnels → kernel.' },
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
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [{ group: ['**/agent/**', '**/routing/**', '**/tunnels/**', '**/lab/**'], message: 'kernel/ is the bottom layer.' }],
      }],
    },
  },
  {
    files: ['agent/**/*.ts', 'lab/**/*.ts', 'bench/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [{ group: ['execa', 'node:child_process', 'child_process'], message: 'Run commands through kernel/exec.ts.' }],
      }],
    },
  },
);
