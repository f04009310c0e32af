import { defineConfig } from 'vitest/config';

export default defineConfig({
  define: { __VERSION__: JSON.stringify('0.0.0-test') },
  test: {
    include: ['test/unit/**/*.test.ts', 'test/build/**/*.test.ts', 'test/property/**/*.test.ts', 'test/faults/**/*.test.ts', 'test/docs/**/*.test.ts'],
    environment: 'happy-dom',
    setupFiles: ['fake-indexeddb/auto'],
  },
});
