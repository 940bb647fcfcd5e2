export * from './env.js';
export * from './fs.js';
