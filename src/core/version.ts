// Kept in step with package.json by test/unit/version.test.ts; a constant so the Worker bundle needs no fs.
export const VERSION = "0.1.0";
