export * from './event.js';
export * from './actions.js';
export * from './id.js';
export * from './build.js';
export * from './check.js';
export * from './paths.js';
export * from './origin.js';
