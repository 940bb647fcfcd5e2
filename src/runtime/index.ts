export * from './env.js';
export * from './fs.js';
export * from './net.js';
