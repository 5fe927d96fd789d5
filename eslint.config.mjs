// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const VSCODE = { name: 'vscode', message: 'only src/ (the extension host) may import vscode' };

/** An import of the top-level folder `dir` by a relative path (`../../src/x`, `../src`). */
function layer(dir) {
  return { regex: `^(\\.\\./)+${dir}(/|$)`, message: `this layer may not import ${dir}/ (see eslint.config.mjs: the layering)` };
}

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.tools/**', 'out/**', 'test-results/**', '**/*.py', 'engine/kernels/asm/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        console: 'readonly', process: 'readonly', Buffer: 'readonly', setTimeout: 'readonly',
        clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', URL: 'readonly',
        performance: 'readonly', window: 'readonly', document: 'readonly', __dirname: 'readonly',
        require: 'readonly', module: 'writable', TextEncoder: 'readonly', TextDecoder: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
    },
  },
  // The layering: protocol/ (the messages between worker, host and webview) imports none of the others;
  // engine/ (shared by the CLI, the worker and the host) imports neither the host, the webview nor vscode;
  // webview/ (a browser context) imports neither the host nor the engine. src/ may import all of them.
  {
    files: ['engine/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: [VSCODE], patterns: [layer('src'), layer('webview')] }] },
  },
  {
    files: ['webview/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: [VSCODE], patterns: [layer('src'), layer('engine')] }] },
  },
  {
    files: ['protocol/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: [VSCODE], patterns: [layer('src'), layer('engine'), layer('webview')] }] },
  },
);
