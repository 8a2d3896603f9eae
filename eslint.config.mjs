import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'data/**', '*.js', '**/*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      '@typescript-eslint/no-unnecessary-condition': 'off',
      '@typescript-eslint/no-extraneous-class': 'off',
      eqeqeq: 'error',
      curly: 'error',
      'no-console': 'error',
    },
  },
  {
    // Mappers are pure: no I/O, no config, no clock, no logger; and they choose no HTTP status (they return or
    // throw issues, UnmappableInput; the service decides 400 or 422), so the HTTP error builders are not theirs.
    files: ['src/mappers/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['express', 'bullmq', 'ioredis', 'fhir-kit-client', 'pg', '@electric-sql/*', 'pino', '**/config', '**/store/**', '**/queue/**', '**/observability/**', 'node:fs', 'fs', 'node:http', 'http'] }, { group: ['**/errors'], importNames: ['errors', 'GatewayError'], message: 'Mappers choose no HTTP status: return issues or throw UnmappableInput' }] }],
      'no-restricted-syntax': ['error', { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: 'Mappers take the time from MappingContext.now' }, { selector: "CallExpression[callee.object.name='Date'][callee.property.name='now']", message: 'Mappers take the time from MappingContext.now' }],
    },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts'],
    rules: {
      'no-console': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
);
